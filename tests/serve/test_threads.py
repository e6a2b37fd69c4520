"""The server's batch threads are chosen by timing the model: all the cores for a model slower than the event loop
(and faster with them), the cores the loop leaves for the rest."""

import time

import pytest
import torch

from deepscope.serve.threads import LOOP_S_PER_REQUEST, batch_threads, spare

BATCH = {"x": torch.zeros(8, 3)}


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def pass_taking(seconds_per_item_on_one_thread: float, speedup: float):
    """A fake forward pass: its time per item on one thread, divided by `speedup` on more."""
    def predict(batch):
        slower = 1.0 if torch.get_num_threads() == 1 else 1.0 / speedup
        time.sleep(len(batch["x"]) * seconds_per_item_on_one_thread * slower)
    return predict


def test_a_heavy_model_that_gains_from_more_threads_gets_every_core():
    assert batch_threads(pass_taking(4 * LOOP_S_PER_REQUEST, speedup=1.6), BATCH, share=2) == 2
    assert torch.get_num_threads() == 2


def test_a_model_quicker_than_the_loop_leaves_the_loop_its_core():
    assert batch_threads(pass_taking(LOOP_S_PER_REQUEST / 4, speedup=1.6), BATCH, share=2) == 1
    assert torch.get_num_threads() == 1


def test_a_heavy_model_that_does_not_gain_leaves_the_loop_its_core():
    assert batch_threads(pass_taking(4 * LOOP_S_PER_REQUEST, speedup=1.05), BATCH, share=2) == 1


def test_one_core_is_never_timed():
    def predict(batch):
        raise AssertionError("timed on one core")
    assert batch_threads(predict, BATCH, share=1) == 1
    assert spare(1) == 1 and spare(2) == 1 and spare(4) == 3
