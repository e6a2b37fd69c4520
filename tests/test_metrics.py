"""The on-device metrics against scikit-learn, batch-size independence, reset, and no host sync in `update`."""

import doctest
import math

import pytest
import torch
from sklearn import metrics as sk

import deepscope.metrics as metrics_module
from deepscope.metrics import BinaryMetrics, ClassificationMetrics, RegressionMetrics


def classification_data(n=500, classes=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    target = torch.randint(0, classes, (n,), generator=generator)
    # logits that lean to the right class, so every score is far from 0 and from 1
    logits = torch.randn(n, classes, generator=generator) + 1.5 * torch.nn.functional.one_hot(target, classes)
    return logits, target


def in_batches(metric, output, target, size):
    for start in range(0, len(target), size):
        metric.update(output[start:start + size], target[start:start + size])
    return metric.compute()


def assert_same_results(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-12, nan_ok=True), key
        else:
            assert a[key] == b[key], key


# --- classification ------------------------------------------------------------------------------------------
def test_classification_matches_sklearn():
    logits, target = classification_data()
    metric = ClassificationMetrics(7, top_k=3)
    metric.update(logits, target)
    result = metric.compute()
    y, predicted = target.numpy(), logits.argmax(1).numpy()
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        y, predicted, average="macro", labels=range(7), zero_division=0)
    assert result["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert result["top3_accuracy"] == pytest.approx(sk.top_k_accuracy_score(y, logits.numpy(), k=3, labels=range(7)))
    assert result["precision_macro"] == pytest.approx(precision)
    assert result["recall_macro"] == pytest.approx(recall)
    assert result["f1_macro"] == pytest.approx(f1)
    assert result["confusion_matrix"] == sk.confusion_matrix(y, predicted, labels=range(7)).tolist()
    assert result["n"] == 500


def test_classification_macro_counts_absent_classes_like_sklearn():
    # class 3 is never the target nor predicted, class 2 is predicted but never the target
    logits = torch.full((6, 4), -5.0)
    predicted = torch.tensor([0, 0, 1, 2, 1, 0])
    logits[torch.arange(6), predicted] = 5.0
    target = torch.tensor([0, 1, 1, 0, 1, 0])
    metric = ClassificationMetrics(4)
    metric.update(logits, target)
    result = metric.compute()
    expected = sk.precision_recall_fscore_support(target, predicted, average="macro", labels=range(4), zero_division=0)
    assert [result["precision_macro"], result["recall_macro"], result["f1_macro"]] == pytest.approx(expected[:3])
    assert "top5_accuracy" not in result  # only 4 classes: top-5 would always be 1


def test_classification_batches_equal_one_update_and_reset():
    logits, target = classification_data(n=301)
    whole = in_batches(ClassificationMetrics(7, top_k=2), logits, target, 301)
    metric = ClassificationMetrics(7, top_k=2)
    assert_same_results(in_batches(metric, logits, target, 64), whole)
    metric.reset()
    assert_same_results(in_batches(metric, logits, target, 17), whole)


def test_classification_skips_ignored_targets():
    logits, target = classification_data(n=50)
    padded = torch.cat([target, torch.full((5,), -100)])
    metric = ClassificationMetrics(7)
    metric.update(torch.cat([logits, torch.randn(5, 7)]), padded)
    reference = ClassificationMetrics(7)
    reference.update(logits, target)
    assert_same_results(metric.compute(), reference.compute())


# --- binary --------------------------------------------------------------------------------------------------
def binary_data(n=400, seed=1):
    generator = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 2, (n,), generator=generator).float()
    logits = torch.randn(n, generator=generator) + (2 * target - 1)
    return logits, target


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_binary_matches_sklearn(threshold):
    logits, target = binary_data()
    metric = BinaryMetrics(threshold=threshold)
    metric.update(logits, target)
    result = metric.compute()
    y, predicted = target.numpy().astype(int), (logits.sigmoid() >= threshold).numpy().astype(int)
    assert result["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert result["precision"] == pytest.approx(sk.precision_score(y, predicted, zero_division=0))
    assert result["recall"] == pytest.approx(sk.recall_score(y, predicted, zero_division=0))
    assert result["f1"] == pytest.approx(sk.f1_score(y, predicted, zero_division=0))
    assert result["roc_auc"] == pytest.approx(sk.roc_auc_score(y, logits.numpy()))
    assert result["confusion_matrix"] == sk.confusion_matrix(y, predicted, labels=[0, 1]).tolist()
    assert result["n"] == 400


def test_binary_auc_keeps_confident_scores_apart():
    # float32 sigmoid maps both logits to exactly 1.0; the ranking must still see 30 > 20
    metric = BinaryMetrics()
    metric.update(torch.tensor([30.0, 20.0, -1.0]), torch.tensor([1.0, 0.0, 0.0]))
    assert metric.compute()["roc_auc"] == 1.0


def test_binary_single_class_auc_is_nan_and_batches_and_reset():
    metric = BinaryMetrics()
    metric.update(torch.randn(10), torch.ones(10))
    assert math.isnan(metric.compute()["roc_auc"])
    metric.reset()
    logits, target = binary_data(n=203)
    whole = in_batches(BinaryMetrics(), logits, target, 203)
    assert_same_results(in_batches(metric, logits.unsqueeze(1), target.unsqueeze(1), 50), whole)


# --- regression ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(300,), (300, 3)])
def test_regression_matches_sklearn(shape):
    generator = torch.Generator().manual_seed(2)
    target = 1000.0 + 5 * torch.randn(shape, generator=generator)  # a large mean, a small spread
    prediction = target + torch.randn(shape, generator=generator)
    metric = RegressionMetrics()
    metric.update(prediction, target)
    result = metric.compute()
    y, p = target.double().numpy().ravel(), prediction.double().numpy().ravel()
    assert result["mae"] == pytest.approx(sk.mean_absolute_error(y, p), rel=1e-9)
    assert result["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(y, p)), rel=1e-9)
    assert result["r2"] == pytest.approx(sk.r2_score(y, p), rel=1e-9)
    assert result["n"] == 300


def test_regression_batches_equal_one_update_and_reset():
    generator = torch.Generator().manual_seed(3)
    target, prediction = torch.randn(257, generator=generator), torch.randn(257, generator=generator)
    whole = in_batches(RegressionMetrics(), prediction, target, 257)
    metric = RegressionMetrics()
    batched = in_batches(metric, prediction, target, 32)
    assert batched.keys() == whole.keys() and batched["n"] == whole["n"] == 257
    keys = ("mae", "rmse", "r2")
    assert [batched[k] for k in keys] == pytest.approx([whole[k] for k in keys], rel=1e-12)
    metric.reset()
    assert math.isnan(metric.compute()["mae"]) and metric.compute()["n"] == 0


def test_regression_constant_target_follows_sklearn():
    metric = RegressionMetrics()
    metric.update(torch.tensor([2.0, 2.0]), torch.tensor([2.0, 2.0]))
    assert metric.compute()["r2"] == sk.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    metric.reset()
    metric.update(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 2.0]))
    assert metric.compute()["r2"] == sk.r2_score([2.0, 2.0], [1.0, 3.0]) == 0.0


# --- on-device accumulation ----------------------------------------------------------------------------------
def test_accumulators_are_tensors_and_compute_returns_python_values():
    logits, target = classification_data(n=20)
    classification = ClassificationMetrics(7)
    classification.update(logits, target)
    assert isinstance(classification.confusion, torch.Tensor) and isinstance(classification.top_k_hits, torch.Tensor)
    binary = BinaryMetrics()
    binary.update(*binary_data(n=20))
    assert all(isinstance(t, torch.Tensor) for t in binary.logits + binary.targets)
    regression = RegressionMetrics()
    regression.update(torch.randn(20), torch.randn(20))
    assert isinstance(regression.sums, torch.Tensor) and regression.sums.dtype == torch.float64
    for metric in (classification, binary, regression):
        for key, value in metric.compute().items():
            assert type(value) in (float, int, list), (key, type(value))


@pytest.mark.gpu
def test_update_does_not_sync_on_cuda():
    logits, target = classification_data()
    binary_logits, binary_target = binary_data()
    batches = [
        (ClassificationMetrics(7), logits.cuda(), target.cuda()),
        (BinaryMetrics(), binary_logits.cuda(), binary_target.cuda()),
        (RegressionMetrics(), binary_logits.cuda(), binary_target.cuda()),
    ]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any synchronising call in update raises
    try:
        for metric, output, y in batches:
            metric.update(output, y)
            metric.update(output, y)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for metric, _, _ in batches:
        metric.compute()


def test_docstring_examples_run():
    import importlib
    import pkgutil

    modules = [metrics_module] + [importlib.import_module(f"deepscope.metrics.{m.name}")
                                  for m in pkgutil.iter_modules(metrics_module.__path__)]
    results = [doctest.testmod(module, extraglobs={"torch": torch}) for module in modules]
    assert sum(r.failed for r in results) == 0
    assert sum(r.attempted for r in results) >= 10  # every family's examples ran


def test_every_metric_declares_the_direction_of_each_score_it_reports():
    """One table of directions, read by early stopping, checkpoints, the plateau schedule, learning curves and the
    dashboard: every score a metric computes has one, and non-scores have none."""
    from deepscope.metrics import (
        DIRECTIONS,
        METRICS,
        ForecastMetrics,
        LanguageModelMetrics,
        TranslationMetrics,
        direction,
    )

    logits = torch.tensor([[[2.0, 0.0, 1.0, 0.5], [0.0, 1.0, 3.0, 0.5]]])
    values = {ClassificationMetrics: (torch.tensor([[2.0, 0.0, 1.0]] * 8), torch.tensor([0, 1, 2, 0, 0, 1, 2, 0])),
              BinaryMetrics: (torch.tensor([1.0, -1.0, 0.5, -2.0]), torch.tensor([1.0, 0.0, 0.0, 1.0])),
              RegressionMetrics: (torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5])),
              ForecastMetrics: (torch.tensor([[1.0, 2.0]]), torch.tensor([[1.5, 2.5]])),
              LanguageModelMetrics: (logits, torch.tensor([[0, 1]])),
              TranslationMetrics: (logits, torch.tensor([[3, 2]]), torch.tensor([[3, 2]]))}  # + the written ids
    made = {ClassificationMetrics: lambda: ClassificationMetrics(3),
            LanguageModelMetrics: lambda: LanguageModelMetrics(characters=True),
            TranslationMetrics: lambda: TranslationMetrics(lambda rows: [" ".join(map(str, row)) for row in rows])}
    assert set(values) == set(METRICS)
    for cls, (output, target, *written) in values.items():
        metric = made.get(cls, cls)()
        metric.update(output, target, *written)
        for name, value in metric.compute().items():
            if isinstance(value, float):
                assert direction(f"val.{name}") in ("min", "max"), f"{cls.__name__}.{name} declares no direction"
            else:
                assert direction(name) is None or name not in DIRECTIONS, name
    assert direction("val.loss") == direction("test.price.mae") == direction("smape") == "min"
    assert direction("val.label.accuracy") == direction("top3_accuracy") == direction("r2") == "max"
    assert direction("lr") is direction("time") is direction("test.n") is None


def test_metric_keys_are_plain_for_one_output_and_prefixed_for_several():
    from deepscope.metrics import metric_key

    assert metric_key("label", "accuracy", 1) == "accuracy"
    assert metric_key("label", "accuracy", ["label", "price"], split="val") == "val.label.accuracy"


def _metric_cases():
    from deepscope.metrics import ForecastMetrics, LanguageModelMetrics, TranslationMetrics
    from deepscope.training.task import _LazyClassification

    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(40, 5, generator=g), torch.randint(0, 5, (40,), generator=g)
    scores, flags = torch.randn(40, generator=g), torch.randint(0, 2, (40,), generator=g).float()
    # targets far from 0 with a small spread: the halves' shifts differ, which R² must survive
    values = 1000 + torch.randn(40, generator=g, dtype=torch.float64)
    guesses = values + 0.3 * torch.randn(40, generator=g, dtype=torch.float64)
    series = torch.rand(40, 3, generator=g) + 1
    tokens, ids = torch.randn(40, 6, 7, generator=g), torch.randint(0, 7, (40, 6), generator=g)
    to_text = lambda rows: [" ".join(map(str, row)) for row in rows]  # noqa: E731
    return [
        (lambda: ClassificationMetrics(5), logits, labels),
        (_LazyClassification, logits, labels),
        (BinaryMetrics, scores, flags),
        (RegressionMetrics, guesses, values),
        (ForecastMetrics, series + 0.1, series),
        (LanguageModelMetrics, tokens, ids),
        (lambda: TranslationMetrics(to_text), tokens, ids),
    ]


@pytest.mark.parametrize("case", range(7))
def test_merging_the_halves_of_the_data_equals_one_metric_over_all(case):
    """What processes that each score a shard of the data report together (`merge`, as the DDP strategy does)
    equals one process scoring all of it."""
    make, output, target = _metric_cases()[case]
    whole, first, second = make(), make(), make()
    extra = {"written": target} if isinstance(whole, metrics_module.TranslationMetrics) else {}
    whole.update(output, target, **extra)
    first.update(output[:15], target[:15], **({"written": target[:15]} if extra else {}))
    second.update(output[15:], target[15:], **({"written": target[15:]} if extra else {}))
    first.merge(second)
    expected, merged = whole.compute(), first.compute()
    assert merged.keys() == expected.keys()
    for key, value in expected.items():  # float32 sums in another order: equal to about 1e-7
        nested = isinstance(value, list) and value and isinstance(value[0], list)
        assert merged[key] == (value if nested else pytest.approx(value, rel=1e-6, abs=1e-12)), key


def test_merging_a_metric_that_saw_no_batch():
    seen, empty = RegressionMetrics(), RegressionMetrics()
    seen.update(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5]))
    empty.merge(seen)
    assert empty.compute() == seen.compute()
