"""The reference a PyTorch user would write by hand: FastAPI + the model, no batching, nothing else.

    python bench/serving/minimal_fastapi.py RUN PORT [async]

The same model and the same preprocessing as deepscope's (the fitted image normalisation), a JSON body
{"image": [784 floats]}. A plain `def` endpoint, which FastAPI runs in its thread pool (what its docs advise for
blocking work), or with `async` an `async def` one that computes on the event loop itself (fastest alone, and it
stops the server from reading anything else while it computes)."""

from __future__ import annotations

import sys

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from deepscope.models.saving import load_model

saved = load_model(sys.argv[1])
model = saved.model.eval()
image = saved.inputs["image"]
shape = image.shape  # (C, H, W)
mean = torch.tensor(image.fitted["mean"]).view(1, -1, 1, 1)
std = torch.tensor(image.fitted["std"]).view(1, -1, 1, 1)
scale = image.fitted["scale"]
output = next(iter(saved.outputs))
app = FastAPI()


class Item(BaseModel):
    image: list[float]


def predict(item: Item) -> dict:
    x = (torch.tensor(item.image).view(1, *shape) / scale - mean) / std
    with torch.inference_mode():
        probabilities = model({"image": x})[output].softmax(-1)[0]
    return {"label": int(probabilities.argmax()), "probabilities": probabilities.tolist()}


async def predict_on_the_loop(item: Item) -> dict:
    return predict(item)


app.post("/predict")(predict_on_the_loop if sys.argv[3:] == ["async"] else predict)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
