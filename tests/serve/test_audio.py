"""The server and the exports on an audio model: uploaded WAV files get the predictions of `ds.load(run).predict`
on the same files, /explain attributes them on the spectrogram the model computes, and an ONNX export served on
onnxruntime answers the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import deepscope as ds
from deepscope.models.saving import load_model
from deepscope.serve import ServeOptions, create_app
from deepscope.track.runinfo import read_run
from tests.serve.test_server import close


def wavs(run: str) -> list[Path]:
    source = Path(read_run(run).config["data"]["source"])
    return sorted(source.rglob("*.wav"))[::3]


def uploads(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("audio", (p.name, p.read_bytes(), "audio/wav")) for p in paths]


def test_uploaded_wav_files_get_the_predictions_of_the_same_files(audio_run):
    paths = wavs(audio_run)
    expected = ds.load(audio_run).predict({"audio": paths})
    with TestClient(create_app(ServeOptions(run=audio_run))) as c:
        answer = c.post("/predict", files=uploads(paths))
        not_a_wav = c.post("/predict", files={"audio": ("noise.wav", b"RIFF but not really", "audio/wav")})
        health = c.get("/health")
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == len(paths) >= 4
    for got, wanted in zip(answer.json(), expected):
        close(got, wanted)
    assert not_a_wav.status_code == 422 and "noise.wav" in not_a_wav.json()["detail"]
    assert health.status_code == 200


def test_an_uploaded_recording_is_explained_on_its_spectrogram(audio_run):
    saved = load_model(audio_run)
    shape = saved.inputs["audio"].describe()["shape"][1:]  # (channels, mels, frames)
    with TestClient(create_app(ServeOptions(run=audio_run))) as c:
        answer = c.post("/explain", files=uploads(wavs(audio_run)[:2]))
        occluded = c.post("/explain?method=occlusion&target=high", files=uploads(wavs(audio_run)[:1]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["input"] == "audio" and len(body["attributions"]) == 2
    assert _shape(body["attributions"][0]) == list(shape)
    assert occluded.status_code == 200, occluded.text
    assert occluded.json()["method"] == "occlusion" and occluded.json()["targets"] == [
        saved.outputs["label"].fitted["vocabulary"].index("high")]


def test_an_onnx_export_of_an_audio_model_serves_the_same_answers(audio_run, capsys):
    pytest.importorskip("onnxruntime")
    from deepscope.serve.export import export_run

    export_run(audio_run, "onnx", check_n=8)
    paths = wavs(audio_run)
    expected = ds.load(audio_run).predict({"audio": paths})
    with TestClient(create_app(ServeOptions(run=audio_run, backend="onnx"))) as c:
        answer = c.post("/predict", files=uploads(paths))
    assert answer.status_code == 200, answer.text
    for got, wanted in zip(answer.json(), expected):
        close(got, wanted)


def _shape(nested) -> list[int]:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0]
    return shape
