"""The workflows a user runs, each composing the rooms below it; nothing below imports them.

    train          run/train.py           config -> a finished run folder (`deepscope.train`)
    evaluate       run/evaluate.py        a run's saved model on one split of its data
    predict        run/predict.py         predictions from files, folders, tables or a text
    forecast       run/forecast.py        forecast errors beside naive baselines; forecasts from a CSV
    lr_find        run/lr_find.py         the learning-rate range test, through the config's trainer
    learning_curve run/learning_curve.py  would more data help?
    runs           run/runs.py            list, show, compare, tag and delete the runs of a root
    recipe         run/recipe.py          the trainer and callbacks a config asks for (shared by the above)

The public names are on the package itself: `deepscope.train`, `deepscope.evaluate`, `deepscope.lr_find`, ...
"""
