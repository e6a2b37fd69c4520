"""Every drawing of an explanation, by modality, in one place to import from. Plain arrays (numpy or torch) in,
one file written atomically (PNG, or self-contained HTML for text), its path returned; nothing here knows a model.

| modality | function | drawn as |
| --- | --- | --- |
| image | `image_attribution_png` | a grid of images in grey under their maps |
| audio | `spectrogram_attribution_png` | the spectrogram, and the map over it |
| text | `token_attribution_html` | a line per sentence, tokens highlighted, scores beside them |
| table | `column_importance_png` | ranked bars, optional confidence intervals |
| series | `series_attribution_png` | lookback step x channel heatmap |
| transformer | `attention_png` | attention per layer and head, optional rollout |
| any | `faithfulness_png` | deletion and insertion curves against a random order |

Colours mean the same in all of them (`explain_colours`): blue towards the target, red against it.
"""

from deepscope.report.explain_charts import attention_png, column_importance_png, faithfulness_png
from deepscope.report.explain_maps import image_attribution_png, series_attribution_png, spectrogram_attribution_png
from deepscope.report.explain_tokens import token_attribution_body, token_attribution_html

__all__ = ["attention_png", "column_importance_png", "faithfulness_png", "image_attribution_png",
           "series_attribution_png", "spectrogram_attribution_png", "token_attribution_body", "token_attribution_html"]
