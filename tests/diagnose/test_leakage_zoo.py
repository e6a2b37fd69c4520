"""The leakage zoo: each test plants one kind of leak in files a user could train on, runs a short real training
run on them, and checks the diagnosis names it (code, column or split, share, examples); the clean twin of
each case stays silent.

- edited copies of training images in the test split (shifted, cropped and resized, brightened, re-saved as
  JPEG), which byte-for-byte comparison misses;
- target leakage: an input column that is the label under another name, or nearly the target;
- texts judged as written: different sentences that share token ids (rare words become <unk>) are not
  duplicates, while the same sentence written with other spaces or case is.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.prepare import prepare_data
from deepscope.diagnose import Finding, at_least, load_diagnosis
from deepscope.diagnose.profile import profile_data

EXAMPLES = Path(__file__).parents[2] / "examples"
LEAK_CODES = {"leakage", "near_duplicates", "duplicates", "conflicting_labels", "target_leakage"}


def train(source: Path, tmp_path: Path, *, encoder: str = "mlp", epochs: int = 1, **data: Any) -> ds.Run:
    config = {"data": {"source": str(source), **data}, "model": {"encoder": encoder},
              "train": {"epochs": epochs, "batch_size": 64}, "run": {"root": str(tmp_path / "runs"), "report": False}}
    return ds.train(config, progress=False)


def findings(run: ds.Run, code: str) -> list[Finding]:
    return [f for f in run.diagnosis if f.code == code]


def write_csv(path: Path, header: list[str], rows: list[list[Any]], delimiter: str = ",") -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- edited image copies -----------------------------------------------------------------------------------------
def textures(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 28, 28) uint8 images of smooth random texture inside a 4-pixel dark margin (distinct images, with
    the detail of a photo rather than of a plain stroke)."""
    noise = rng.random((n, 20, 20))
    kernel = np.array([1, 4, 6, 4, 1]) / 16  # a small blur, so that pixels have neighbours that agree
    for axis in (1, 2):
        noise = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, noise)
    images = np.zeros((n, 28, 28))
    images[:, 4:24, 4:24] = noise
    return (255 * images / images.max(axis=(1, 2), keepdims=True)).astype(np.uint8)


def edited(image: np.ndarray, how: int) -> np.ndarray:
    """One of four edits of a 28 x 28 image: shift by 2 px, crop 3 px and resize, brightness -20 %, JPEG q75."""
    if how == 0:
        return np.roll(image, (2, -2), axis=(0, 1))  # the content sits inside a margin: nothing wraps
    if how == 1:
        return np.asarray(Image.fromarray(image).crop((1, 2, 26, 27)).resize((28, 28), Image.BILINEAR))
    if how == 2:
        return (image * 0.8).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=75)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


def image_archive(path: Path, *, copies: int) -> tuple[Path, np.ndarray, np.ndarray]:
    """600 training and 200 test textures (label: `brightest_half`); the first `copies` test
    images are edited copies of random training images. Returns the path, the planted test rows and sources."""
    rng = np.random.default_rng(0)
    train_images, test_images = textures(600, rng), textures(200, rng)
    sources = rng.choice(600, copies, replace=False)
    for row, source in enumerate(sources):
        test_images[row] = edited(train_images[source], row % 4)
    np.savez(path, train_image=train_images, train_label=brightest_half(train_images), test_image=test_images,
             test_label=brightest_half(test_images))
    return path, np.arange(copies), sources


def brightest_half(images: np.ndarray) -> np.ndarray:
    """A label: whether the brightest pixel lies in the right half of the image."""
    return (images.reshape(len(images), -1).argmax(1) % 28 >= 14).astype(np.int64)


def test_edited_copies_of_training_images_in_the_test_split_are_found(tmp_path):
    archive, planted, sources = image_archive(tmp_path / "copies.npz", copies=40)  # 20 % of the test images
    run = train(archive, tmp_path, inputs={"image": "image"}, outputs={"label": "category"}, split={"val": 0.0})
    assert not findings(run, "leakage")  # no copy is exact: byte-for-byte comparison sees nothing

    [finding] = findings(run, "near_duplicates")
    assert finding.severity == "error" and finding.layer == "test"
    found = finding.evidence["near_train_test_edited"]
    assert 36 <= found <= 40 and finding.evidence["test_size"] == 200  # >= 90 % of the planted copies
    assert finding.evidence["share"] == round(found / 200, 4)
    truth = dict(zip(planted.tolist(), sources.tolist()))
    assert all(truth.get(pair["test"]) == pair["train"] for pair in finding.evidence["example_pairs"])
    assert len(finding.evidence["example_pairs"]) == 5 and all(c >= 0.9 for c in finding.evidence["cosine"])


def test_distinct_images_are_not_called_copies(tmp_path):
    archive, _, _ = image_archive(tmp_path / "clean.npz", copies=0)
    config = load_config({"data": {"source": str(archive), "outputs": {"label": "category"}, "split": {"val": 0.0}}})
    profile = profile_data(prepare_data(config.data))
    assert profile["duplicates"]["near_method"] == "image_views"
    assert profile["duplicates"]["near_train_test"] <= 2  # at most 1 % look-alikes, as on MNIST


# --- target leakage ------------------------------------------------------------------------------------------------
def customer_rows(n: int, rng: np.random.Generator) -> list[list[Any]]:
    """A table like examples/data/customers.csv whose label depends, noisily, on age and income."""
    rows = []
    for i in range(n):
        age, income = rng.integers(20, 70), rng.normal(40000, 12000)
        risk = "high" if age / 50 + income / 40000 + rng.normal(0, 0.6) > 2 else "low"
        rows.append([age, rng.choice(["technician", "management", "services"]), f"{income:.0f}", f"C{i:05d}", risk])
    return rows


def test_a_column_that_recodes_the_label_is_an_error_naming_it(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[*row, {"high": "H", "low": "L"}[row[-1]]] for row in customer_rows(600, rng)]
    rows = [[*row[:-2], row[-1], row[-2]] for row in rows]  # the recoded label sits before the label column
    table = write_csv(tmp_path / "customers.csv", ["age", "job", "income", "customer_id", "risk_code", "risk"], rows)
    run = train(table, tmp_path, outputs={"risk": "category"}, epochs=10)
    assert run.metrics["test"]["accuracy"] > 0.85  # the shortcut at work: age and income alone give about 0.75

    [finding] = findings(run, "target_leakage")
    assert finding.severity == "error" and finding.layer == "risk_code" and "risk_code" in finding.title
    assert finding.evidence["column"] == "risk_code" and finding.evidence["output"] == "risk"
    assert finding.evidence["measure"] == "held_out_accuracy" and finding.evidence["value"] == 1.0
    assert "data.inputs" in finding.advice[0] and "risk_code" not in finding.advice[0].split("e.g.")[1]
    assert "customer_id" in finding.advice[0]  # the other inputs, each unique: not a leak themselves
    assert at_least(run.diagnosis, "error")  # the run is not called healthy


def test_a_nearly_copied_number_target_is_a_leak_and_a_strong_feature_is_not(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=400)
    price = 3 * x + rng.normal(0, 1.0, 400)  # x explains 90 % of the variance: a strong feature, no leak
    rows = [[f"{a:.4f}", f"{np.exp(p / 4) + rng.normal(0, 0.001):.5f}", f"{p:.4f}"] for a, p in zip(x, price)]
    run = train(write_csv(tmp_path / "prices.csv", ["x", "price_index", "price"], rows), tmp_path,
                outputs={"price": "number"})
    [finding] = findings(run, "target_leakage")
    assert finding.layer == "price_index" and finding.evidence["measure"] == "rank_correlation"
    assert finding.evidence["value"] >= 0.99  # exp() is monotone, not linear: the rank correlation says it


def test_a_label_copy_with_a_few_errors_leaks_and_a_good_binary_clue_does_not(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 1000)
    noisy = np.where(rng.random(1000) < 0.005, 1 - labels, labels)  # 0.5 % of rows disagree
    clue = np.where(rng.random(1000) < 0.08, 1 - labels, labels)  # agrees with the label 92 % of the time
    rows = [[f"{rng.normal():.3f}", "yes" if n else "no", "a" if c else "b", "pos" if y else "neg"]
            for y, n, c in zip(labels, noisy, clue)]
    prepared = prepare_data(load_config({"data": {
        "source": str(write_csv(tmp_path / "t.csv", ["x", "flag", "clue", "label"], rows)),
        "outputs": {"label": "category"}}}).data)
    leaks = profile_data(prepared)["target_leakage"]
    assert [leak["column"] for leak in leaks] == ["flag"] and leaks[0]["value"] >= 0.99


def test_real_tables_raise_no_target_leakage(data_dir):
    customers = load_config(EXAMPLES / "tabular.yaml").data.model_copy(
        update={"source": str(EXAMPLES / "data" / "customers.csv")})
    assert profile_data(prepare_data(customers))["target_leakage"] == []
    adult = load_config(EXAMPLES / "adult-headerless.yaml").data
    assert profile_data(prepare_data(adult))["target_leakage"] == []


# --- texts ---------------------------------------------------------------------------------------------------------
def sentences(path: Path, *, planted: int = 0) -> tuple[Path, list[int]]:
    """300 distinct training and 100 test sentences, each a frequent frame around a word used once (so that
    word is <unk>, and many different sentences share their token ids), labelled at random. `planted` test
    sentences repeat training ones with other spacing and case. Returns the path and the planted test rows."""
    rng = np.random.default_rng(4)
    frames = ["the {} was great", "the {} was awful", "i loved the {}", "i hated the {}"]
    texts = [frames[i % 4].format(f"w{i:04d}x") for i in range(400)]
    labels = rng.choice(["pos", "neg"], 400)
    train_texts, test_texts = texts[:300], texts[300:]
    train_labels, test_labels = labels[:300], labels[300:].copy()
    rows = sorted(rng.choice(100, planted, replace=False).tolist())
    for row, source in zip(rows, rng.choice(300, planted, replace=False)):
        test_texts[row] = "  " + train_texts[source].upper().replace(" ", "   ")
        test_labels[row] = train_labels[source]
    np.savez(path, train_sentence=np.array(train_texts), train_label=train_labels,
             test_sentence=np.array(test_texts), test_label=test_labels)
    return path, rows


TEXT_DATA = {"inputs": {"sentence": {"type": "text", "tokenizer": "word"}}, "outputs": {"label": "category"},
             "split": {"val": 0.0}}


def test_different_sentences_that_share_token_ids_are_not_duplicates(tmp_path):
    archive, _ = sentences(tmp_path / "texts.npz")
    prepared = prepare_data(load_config({"data": {"source": str(archive), **TEXT_DATA}}).data)
    ids = prepared.splits["train"].tensors["sentence"]
    assert len(set(prepared.raw.splits["train"]["sentence"].tolist())) == 300
    assert len({tuple(row.tolist()) for row in ids}) == 4  # the case at hand: 300 sentences, 4 token patterns

    run = train(archive, tmp_path, encoder="cnn1d", **TEXT_DATA)
    assert [f.code for f in run.diagnosis if f.code in LEAK_CODES] == []
    duplicates = load_diagnosis(run.dir / "diagnosis.json")[1].data["duplicates"]
    assert [duplicates[k] for k in ("within_train", "train_test", "conflicting_labels")] == [0, 0, 0]


def test_the_same_sentence_with_other_spacing_and_case_is_leakage(tmp_path):
    archive, planted = sentences(tmp_path / "texts.npz", planted=10)
    run = train(archive, tmp_path, encoder="cnn1d", **TEXT_DATA)
    [finding] = findings(run, "leakage")
    assert finding.layer == "test" and finding.evidence["train_test"] == 10 and finding.evidence["share"] == 0.1
    assert finding.evidence["example_rows"] == planted[:5]
    assert not findings(run, "conflicting_labels") and not findings(run, "duplicates")

