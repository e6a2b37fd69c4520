"""Audio end to end: the audio feature, folders of WAVs (by class or by file-name pattern), the FSDD builtin,
and bad recordings through `deepscope train` (skipped and listed) and `deepscope predict` (exit code 2)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from deepscope.data.features import FEATURES, Feature
from deepscope.data.sources import load_source
from deepscope.data.sources.audio_folder import compile_pattern, load_audio_folder
from deepscope.data.wav import Recording
from deepscope.errors import ConfigError, DataError

_spec = importlib.util.spec_from_file_location("wav_helpers", Path(__file__).parent / "test_wav.py")
wav_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wav_helpers)
write_wav, riff, pcm_format = wav_helpers.write_wav, wav_helpers.riff, wav_helpers.pcm_format


def tone_frames(hz: float, seconds: float, rate: int = 8000, seed: int = 0) -> np.ndarray:
    """int16 samples of a noisy tone: a stand-in for a spoken word."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.05
    return ((0.5 * np.sin(2 * np.pi * hz * t) + noise) * 32767).astype(np.int16)


def audio_feature(values, **options) -> Feature:
    return FEATURES.get("audio")("audio", options).fit(values)


def recordings(seconds: list[float], rate: int = 8000) -> np.ndarray:
    values = np.empty(len(seconds), dtype=object)
    values[:] = [Recording(np.full(int(s * rate), 0.1, np.float32), rate, f"{i}.wav") for i, s in enumerate(seconds)]
    return values


# ---- the feature ------------------------------------------------------------------------------------------------


def test_fit_takes_the_common_rate_and_the_99th_percentile_length():
    values = np.concatenate([recordings([0.3] * 98 + [0.5, 4.0]), recordings([0.2], rate=16000)])
    feature = audio_feature(values)
    described = feature.describe()
    assert described["type"] == "audio" and described["kind"] == "audio"
    assert described["sample_rate"] == 8000
    expected_seconds = np.percentile([0.3] * 98 + [0.5, 4.0, 0.2], 99)
    assert described["n_samples"] == int(np.ceil(expected_seconds * 8000))
    spec = described["spectrogram"]
    assert (spec["win_length"], spec["hop_length"], spec["n_fft"], spec["f_max"]) == (200, 80, 256, 4000.0)
    assert described["shape"] == [1, 40, described["n_samples"] // 80 + 1]


def test_encode_resamples_pads_and_cuts(tmp_path):
    feature = audio_feature(recordings([0.5]))  # 8 kHz, 4000 samples
    short = write_wav(tmp_path / "short.wav", tone_frames(440, 0.25, rate=16000), rate=16000)
    long = Recording(np.ones(6000, np.float32), 8000)
    out = feature.encode([short, long, np.full(100, 0.5, np.float32)])
    assert out.shape == (3, 4000) and out.dtype == torch.float32
    assert out[0, :1990].abs().max() > 0.3 and (out[0, 2010:] == 0).all()  # 0.25 s at 8 kHz, then padding
    assert (out[1] == 1).all()  # cut at the end
    assert (out[2, :100] == 1.0).all() and (out[2, 100:] == 0).all()  # an array is taken at the fitted rate
    assert feature.encode(str(short)).shape == (1, 4000)  # one path is a batch of one


def test_clips_are_scaled_to_unit_loudness_but_silence_is_not():
    feature = audio_feature(recordings([0.1]))  # 800 samples
    quiet = np.sin(np.arange(800) / 5.0).astype(np.float32) * 0.01
    out = feature.encode([quiet, quiet * 50, np.zeros(800, np.float32), np.full(800, 1e-6, np.float32)])
    torch.testing.assert_close(out[:2].square().mean(dim=1), torch.ones(2))  # RMS 1 however loud it was recorded
    torch.testing.assert_close(out[0], out[1])
    assert (out[2] == 0).all() and (out[3] == 1e-6).all()  # silence (RMS < 1e-4) stays as it is


def test_state_round_trip_encodes_identically(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone_frames(300, 0.4))
    feature = audio_feature(recordings([0.3, 0.4]), n_mels=32, mfcc=13, freq_masks=2)
    clone = Feature.from_state(feature.state())
    assert clone.describe() == feature.describe()
    assert torch.equal(clone.encode([path]), feature.encode([path]))


def test_arrays_need_a_sample_rate_and_bad_values_are_errors(tmp_path):
    no_rate = "data.audio: arrays of samples do not say their sample rate; set the option sample_rate"
    with pytest.raises(DataError, match=no_rate):
        audio_feature([np.zeros(800, np.float32)])
    feature = audio_feature([np.zeros(800, np.float32)], sample_rate=8000)
    assert feature.describe()["n_samples"] == 800
    with pytest.raises(DataError, match="NaN or infinite"):
        feature.encode([np.full(10, np.nan)])
    with pytest.raises(DataError, match="WAV file paths or 1-D arrays"):
        feature.encode([{"not": "audio"}])
    truncated = write_wav(tmp_path / "cut.wav", tone_frames(300, 0.2))
    truncated.write_bytes(truncated.read_bytes()[:-100])
    with pytest.raises(DataError, match="cut.wav: truncated"):  # a bad file given to encode is an error, not a skip
        feature.encode([truncated])


@pytest.mark.parametrize("options,message", [
    ({"f_max": 6000}, r"data.audio.f_max: the band 0-6000 Hz must lie within 0-4000 Hz"),
    ({"mfcc": 50}, r"data.audio.mfcc: 50 coefficients from 40 mel bands"),
    ({"n_mels": 128}, r"data.audio.n_mels: \d+ of 128 mel bands hold no FFT bin .* use fewer n_mels or a larger n_fft"),
    ({"win_length": 400, "n_fft": 256}, r"data.audio.win_length: 400 is longer than n_fft \(256\)"),
])
def test_spectrogram_settings_are_checked_against_the_sample_rate(options, message):
    with pytest.raises(ConfigError, match=message):
        audio_feature(recordings([0.3]), **options)


def test_unknown_option_names_the_options():
    with pytest.raises(ConfigError, match="n_mel.*options for audio: .*n_mels"):
        FEATURES.get("audio")("audio", {"n_mel": 40})


# ---- folders of recordings ---------------------------------------------------------------------------------------


def class_folders(root: Path, per_class: int = 4, rate: int = 8000) -> Path:
    for label, hz in (("high", 1500.0), ("low", 300.0)):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            write_wav(root / label / f"{i}.wav", tone_frames(hz, 0.1 + 0.02 * i, rate, seed=i), rate=rate)
    return root


def test_class_sub_folders_give_the_label(tmp_path):
    raw = load_source(str(class_folders(tmp_path / "speech")))
    train = raw.splits["train"]
    assert list(raw.splits) == ["train"] and sorted(train) == ["audio", "label"]
    assert sorted(train["label"].tolist()) == ["high"] * 4 + ["low"] * 4
    assert all(isinstance(r, Recording) and r.sample_rate == 8000 for r in train["audio"])
    assert raw.inputs == {"audio": "audio"} and raw.outputs == {"label": "category"} and raw.skipped == []


def test_train_and_test_folders_give_the_splits(tmp_path):
    class_folders(tmp_path / "speech" / "train")
    class_folders(tmp_path / "speech" / "test", per_class=2)
    raw = load_audio_folder(tmp_path / "speech")
    assert raw.size("train") == 8 and raw.size("test") == 4


def test_a_pattern_gives_columns_and_skips_names_that_do_not_fit(tmp_path, caplog):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for label, speaker, index in ((7, "jackson", 0), (7, "theo", 12), (3, "jackson", 1)):
        write_wav(folder / f"{label}_{speaker}_{index}.wav", tone_frames(300 + 100 * label, 0.1))
    write_wav(folder / "README.wav", tone_frames(300, 0.1))
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_source(str(folder), pattern="{label}_{speaker}_{index}.wav")
    train = raw.splits["train"]
    assert sorted(train) == ["audio", "index", "label", "speaker"]
    assert train["label"].dtype == np.int64 and train["index"].dtype == np.int64  # whole numbers become ints
    assert sorted(zip(train["label"].tolist(), train["speaker"].tolist(), train["index"].tolist())) == [
        (3, "jackson", 1), (7, "jackson", 0), (7, "theo", 12)]
    assert len(raw.skipped) == 1 and "README.wav" in raw.skipped[0] and "does not fit data.pattern" in raw.skipped[0]
    assert "README.wav" in caplog.text
    assert raw.inputs == {"audio": "audio"} and raw.outputs == {"label": "category"}
    without_suffix = load_audio_folder(folder, pattern="{label}_{speaker}_{index}")
    assert without_suffix.size("train") == 3


def test_a_pattern_with_train_and_test_folders(tmp_path):
    for split, speaker in (("train", "ann"), ("train", "bob"), ("test", "cy")):
        (tmp_path / "digits" / split).mkdir(parents=True, exist_ok=True)
        for label in (1, 2):
            write_wav(tmp_path / "digits" / split / f"{label}_{speaker}_0.wav", tone_frames(200 * label, 0.1))
    raw = load_source(str(tmp_path / "digits"), pattern="{label}_{speaker}_{index}.wav")
    assert raw.size("train") == 4 and raw.size("test") == 2
    assert set(raw.splits["test"]["speaker"].tolist()) == {"cy"}


def test_bad_recordings_in_a_folder_are_skipped_and_listed(tmp_path):
    folder = class_folders(tmp_path / "speech")
    (folder / "low" / "float.wav").write_bytes(riff(pcm_format(tag=3, bits=32), bytes(64)))
    (folder / "high" / "empty.wav").write_bytes(b"")
    raw = load_audio_folder(folder)
    assert raw.size("train") == 8
    assert sorted(Path(line.split(": ")[0]).name for line in raw.skipped) == ["empty.wav", "float.wav"]
    assert any("IEEE float" in line and "pcm_s16le" in line for line in raw.skipped)


@pytest.mark.parametrize("layout,message", [
    ("loose", "WAV files but no class sub-folders.*data.pattern"),
    ("all bad", r"no readable training recordings \(.*not a WAV file"),
    ("missing", "no such folder"),
])
def test_folders_that_cannot_be_read(tmp_path, layout, message):
    folder = tmp_path / "speech"
    if layout == "loose":
        folder.mkdir()
        write_wav(folder / "a.wav", tone_frames(300, 0.1))
    elif layout == "all bad":
        (folder / "yes").mkdir(parents=True)
        (folder / "yes" / "a.wav").write_text("hello")
    with pytest.raises(DataError, match=message):
        load_audio_folder(folder)


@pytest.mark.parametrize("pattern,message", [
    ("recording.wav", "has no {name} fields"),
    ("{label}_{label}.wav", "names a field twice"),
    ("{audio}_{label}.wav", "{audio} is not a usable column name"),
    ("{the label}.wav", "{the label} is not a usable column name"),
])
def test_bad_patterns_are_config_errors(pattern, message):
    with pytest.raises(ConfigError, match=f"data.pattern: .*{message}"):
        compile_pattern(pattern)


def test_pattern_does_not_apply_to_image_folders(tmp_path):
    from PIL import Image

    (tmp_path / "images" / "cat").mkdir(parents=True)
    Image.new("L", (4, 4)).save(tmp_path / "images" / "cat" / "1.png")
    with pytest.raises(ConfigError, match="data.pattern: does not apply to a folder of images"):
        load_source(str(tmp_path / "images"), pattern="{label}.png")


# ---- the Free Spoken Digit Dataset -------------------------------------------------------------------------------


def test_fsdd_builtin_reads_the_tarball_with_the_official_split(data_dir):
    raw = load_source("fsdd")
    assert raw.size("train") == 2700 and raw.size("test") == 300 and raw.skipped == []
    train, test = raw.splits["train"], raw.splits["test"]
    assert sorted(train) == ["audio", "index", "label", "speaker"]
    assert set(test["index"].tolist()) == set(range(5)) and set(train["index"].tolist()) == set(range(5, 50))
    assert set(train["label"].tolist()) == set(range(10))
    assert set(train["speaker"].tolist()) == {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}
    assert {r.sample_rate for r in train["audio"]} == {8000}
    assert 0.1 < min(r.seconds for r in train["audio"]) and max(r.seconds for r in train["audio"]) < 2.5


def test_fsdd_example_trains_on_a_slice_and_reloads(data_dir, tmp_path):
    import deepscope as ds

    example = Path(__file__).parents[2] / "examples" / "fsdd.yaml"
    run = ds.train(example, {"data.limit": 256, "train.epochs": 1, "run.root": str(tmp_path)}, progress=False)
    assert run.data.sizes() == {"train": 256, "test": 300}
    described = run.data.inputs["audio"].describe()
    assert described["sample_rate"] == 8000 and described["shape"] == [1, 40, described["n_samples"] // 160 + 1]
    assert 0.0 <= run.metrics["test"]["accuracy"] <= 1.0 and run.metrics["test"]["n"] == 300
    clips = list(run.data.raw.splits["test"]["audio"][:20])
    reloaded, trained = ds.load(run.dir).predict({"audio": clips}), run.predictor().predict({"audio": clips})
    assert [row["label"] for row in reloaded] == [row["label"] for row in trained]
    for a, b in zip(reloaded, trained):
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-6)


def test_fsdd_reader_splits_by_repetition_and_skips_bad_members(tmp_path, monkeypatch):
    import io
    import tarfile

    files = {f"{label}_{speaker}_{index}.wav": write_wav(tmp_path / "x.wav", tone_frames(300, 0.1)).read_bytes()
             for label in (0, 1) for speaker in ("ann", "bob") for index in (0, 4, 5, 49)}
    files["3_ann_7.wav"] = riff(pcm_format(tag=3, bits=32), bytes(32))  # a float WAV among them
    files["README.md"] = b"not a recording"
    (tmp_path / "data" / "fsdd").mkdir(parents=True)
    with tarfile.open(tmp_path / "data" / "fsdd" / "fsdd-recordings.tar.gz", "w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(f"free-spoken-digit-dataset/recordings/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    monkeypatch.setenv("DEEPSCOPE_DATA", str(tmp_path / "data"))
    raw = load_source("fsdd")
    assert raw.size("train") == 8 and raw.size("test") == 8
    assert set(raw.splits["test"]["index"].tolist()) == {0, 4} and set(raw.splits["train"]["index"].tolist()) == {5, 49}
    assert raw.splits["train"]["label"].dtype == np.int64
    assert len(raw.skipped) == 1 and "3_ann_7.wav" in raw.skipped[0] and "IEEE float" in raw.skipped[0]


# ---- through the command line ------------------------------------------------------------------------------------


def test_train_skips_a_bad_wav_and_predict_refuses_one(tmp_path, monkeypatch, caplog, deepscope_in_process):
    folder = class_folders(tmp_path / "speech", per_class=10)
    truncated = folder / "low" / "cut.wav"
    write_wav(truncated, tone_frames(300, 0.2))
    truncated.write_bytes(truncated.read_bytes()[:-500])
    (tmp_path / "config.yaml").write_text(
        "data: {source: speech, split: {val: 0.0, test: 0.2}}\n"
        "model: {encoder: {name: cnn, filters: [8, 16], dense: 16}}\n"
        "train: {epochs: 8, batch_size: 8, optimizer: {name: adam, lr: 0.01}}\n"
        "run: {root: runs, name: speech}\n"
    )
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        result = deepscope_in_process("train", "config.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cut.wav: truncated" in caplog.text and "skipped" in caplog.text  # one bad file does not stop training
    run = next((tmp_path / "runs").glob("speech-*"))
    import deepscope as ds

    good = write_wav(tmp_path / "new_high.wav", tone_frames(1500, 0.15, seed=99))
    assert ds.load(run).predict({"audio": [str(good)]})[0]["label"] == "high"
    assert ds.load(run).predict(good)[0]["label"] == "high"  # a one-input model takes the bare path
    result = deepscope_in_process("predict", str(run), str(truncated))  # a bad file given to predict is an error
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cut.wav: truncated" in result.stderr and "again" in result.stderr
    from tests.data.test_wav import pcm_format, riff  # a 32-bit float WAV: not PCM

    (tmp_path / "float.wav").write_bytes(riff(pcm_format(tag=3, bits=32), np.zeros(800, np.float32).tobytes()))
    result = deepscope_in_process("predict", str(run), str(tmp_path / "float.wav"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "IEEE float" in result.stderr and "pcm_s16le" in result.stderr


@pytest.mark.parametrize(("key", "value"),
                         [("n_fft", 2**30), ("n_mels", 10**6), ("sample_rate", 1), ("n_samples", "x")])
def test_a_fitted_state_read_back_is_checked_before_a_spectrogram_is_built_from_it(key, value):
    """model.json may come from anyone: a claimed n_fft of 2^30 would allocate a 40 x 2^29 filterbank."""
    state = audio_feature(recordings([0.2, 0.3])).state()
    spectrogram = state["fitted"]["spectrogram"]
    (spectrogram if key in spectrogram else state["fitted"])[key] = value
    with pytest.raises(DataError, match=f"prediction input.audio: the fitted {key} is {value}, not a whole number"):
        Feature.from_state(state, where="prediction input")
