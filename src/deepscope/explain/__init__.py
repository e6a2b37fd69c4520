"""Why a trained model predicts what it predicts, how far to trust that answer, and whether it treats groups fairly.

    from deepscope.explain.api import explain
    explanation = explain(model, inputs, "label", batch, method="integrated_gradients", outputs=outputs)
    from deepscope.explain.methods import METHODS; METHODS.names()   # one file each under explain/methods/

Nothing is imported here, so that `deepscope.explain.fairness` does not load Captum.
"""
