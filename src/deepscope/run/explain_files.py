"""The pictures of a run's explanations, one per method and modality, drawn by report/explain_plots.py.

| modality | file | what |
| --- | --- | --- |
| image | METHOD.png | the first `SHOWN` examples in grey under their maps |
| image | METHOD-class-means.png | the global view: the mean image and mean map of each class explained |
| text | METHOD.html | each text's tokens highlighted, the score beside each |
| table | METHOD.png | columns ranked by mean |attribution| (permutation: importance with 95 % intervals) |
| series | METHOD.png | mean attribution over lookback step x channel |
| audio | METHOD.png | the first example's spectrogram and map |
| attention | attention.png | the first example's weights per layer and head, and the rollout |
| any | METHOD-faithfulness.png | deletion and insertion curves against a random order |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepscope.explain.explanation import Explanation
from deepscope.report import explain_plots as plots
from deepscope.run.explain_global import class_means

SHOWN = 8  # examples drawn per picture (the arrays keep them all)


def write_files(folder: Path, explanations: dict[str, Explanation], faithfulness: dict[str, dict[str, Any]],
                importance: Any, output_feature: Any) -> list[Path]:
    files = []
    for method, e in explanations.items():
        files.append(_picture(folder, method, e, importance, output_feature))
        if e.modality == "image" and len(e) > 1:  # the global view: the mean map of each class
            classes, inputs, maps = class_means(e)
            names = getattr(output_feature, "classes", None) if output_feature.type == "category" else None
            titles = [f"{names[c] if names else c} (mean of {int((e.targets == c).sum())})" for c in classes]
            files.append(plots.image_attribution_png(inputs, maps, folder / f"{method}-class-means.png",
                                                     titles=titles, cols=min(len(classes), 10)))
        if method == "attention" and "attention" in e.extra and not isinstance(e.extra["attention"], list):
            tokens = e.tokens[0] if e.tokens else [str(i) for i in range(e.extra["attention"].shape[-1])]
            if e.extra.get("cls"):
                tokens = ["[cls]", *tokens]
            steps = e.extra["attention"].shape[-1]
            files.append(plots.attention_png(e.extra["attention"][0], tokens[:steps], folder / "attention.png",
                                             rollout=e.extra["rollout"][0]))
        if method in faithfulness and faithfulness[method].get("curves"):
            curves = faithfulness[method]["curves"]
            files.append(plots.faithfulness_png(
                {name: (curves[name], curves[f"{name}_random"]) for name in ("deletion", "insertion")},
                folder / f"{method}-faithfulness.png", method=method))
    return files


def _picture(folder: Path, method: str, e: Explanation, importance: Any, output_feature: Any) -> Path:
    titles = [_title(e, i, output_feature) for i in range(min(SHOWN, len(e)))]
    if e.modality == "image":
        return plots.image_attribution_png(e.inputs[:SHOWN], e.attributions[:SHOWN], folder / f"{method}.png",
                                           titles=titles)
    if e.modality == "text":
        scores = [e.attributions[i, :len(tokens)].tolist() for i, tokens in enumerate(e.tokens)]
        return plots.token_attribution_html(e.tokens, scores, folder / f"{method}.html",
                                            titles=[_title(e, i, output_feature) for i in range(len(e))])
    if e.modality == "table":
        if method == "permutation" and importance is not None:
            return plots.column_importance_png(importance.labels, importance.mean,
                                               folder / f"{method}.png",
                                               intervals=list(zip(importance.low.tolist(), importance.high.tolist())),
                                               title=f"permutation importance ({importance.repeats} shuffles)")
        return plots.column_importance_png(e.labels, e.attributions.abs().mean(dim=0), folder / f"{method}.png",
                                           title=f"{method}: mean |attribution| over {len(e)} rows")
    if e.modality == "series":
        mean = e.attributions.mean(dim=0).expand(e.inputs.shape[1:])  # (lookback, channels)
        labels = e.labels or [str(c) for c in range(mean.shape[1])]
        return plots.series_attribution_png(mean, labels, folder / f"{method}.png",
                                            title=f"{method}: mean over {len(e)} windows")
    attribution = e.attributions[0].expand(e.inputs.shape[1:])  # audio: (mels, frames)
    return plots.spectrogram_attribution_png(e.inputs[0], attribution, folder / f"{method}.png", title=titles[0])


def _title(e: Explanation, i: int, output_feature: Any) -> str:
    target = int(e.targets[i])
    classes = getattr(output_feature, "classes", None) if output_feature.type == "category" else None
    name = classes[target] if classes and target < len(classes) else target
    return f"{name} (p={float(e.scores[i]):.2f})"
