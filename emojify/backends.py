"""One classifier, two back-ends: LiteRT where its runtime is installed and NAME.tflite is the export of the
model file, Keras (TensorFlow) otherwise. Which one runs, and why, is said in one line; never a silent switch."""
from pathlib import Path

from emojify.config import BACKENDS, MODEL_PATH
from emojify.errors import ModelError
from emojify.lite import LiteClassifier, available, export_path, export_problem
from emojify.preflight import TRAINING_PACKAGES, missing

TRAINING_INSTALL = "pip install -r requirements-train.txt"


def has_tensorflow():
    return not missing(TRAINING_PACKAGES)


def _say(line):
    print(line, flush=True)


def check_model_file(model_path):
    """model_path as a Path, or ModelError when there is no such file."""
    path = Path(model_path)
    if not path.is_file():
        raise ModelError(f"model file {path} not found: train one with `python train.py` "
                         "(see README, 'Training') or pass --model PATH.")
    return path


def open_classifier(model_path=MODEL_PATH, views=4, backend="auto", threads=None, say=_say):
    """A classifier of uint8 faces [N, 48, 48] -> probabilities [N, 7] for the model file at model_path
    (.h5, .keras or .tflite). backend: "auto" (LiteRT when it can stand in for the model, else Keras),
    "litert" or "keras". say(line) hears which back-end runs and why."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; received {backend!r}.")
    path = check_model_file(model_path)
    if path.suffix == ".tflite":
        if backend == "keras":
            raise ModelError(f"--backend keras needs a Keras model file (.h5), not the LiteRT export {path}.")
        if not available():
            raise ModelError(f"{path} needs the LiteRT runtime: `pip install -r requirements.txt` installs it.")
        return _lite(path, views, threads, say, path.name)
    if not available():
        why = "ai-edge-litert is not installed"
        if backend == "litert":
            raise ModelError(f"--backend litert: {why}: `pip install -r requirements.txt` installs it.")
    else:
        why = export_problem(path)
        if backend == "litert" and why:
            raise ModelError(f"--backend litert: {why}; export it with `python export.py {path}`.")
    if backend != "keras" and why is None:
        try:
            return _lite(export_path(path), views, threads, say, f"{export_path(path).name}, the export of {path.name}")
        except ModelError as e:  # a damaged export: Keras where it can run the model itself
            if backend == "litert" or not has_tensorflow():
                raise
            why = str(e).split(";")[0]
    if not has_tensorflow():
        if backend == "keras":
            raise ModelError(f"--backend keras needs TensorFlow: `{TRAINING_INSTALL}` installs it.")
        if not available():
            raise ModelError("neither ai-edge-litert nor TensorFlow is installed: `pip install -r requirements.txt` "
                             "installs the app's packages (see README, 'Quick start').")
        raise ModelError(f"{why}, and TensorFlow is not installed to run {path.name} itself: export it with "
                         f"`python export.py {path}` where TensorFlow is ({TRAINING_INSTALL}), or install it here.")
    from emojify.inference import EmotionClassifier, load_model
    classifier = EmotionClassifier(load_model(path), views=views)
    say(f"Back-end: Keras, {path.name}" + (f" ({why})" if backend == "auto" else ""))
    return classifier


def _lite(path, views, threads, say, what):
    classifier = LiteClassifier(path, views=views, threads=threads)
    say(f"Back-end: LiteRT, {what} ({classifier.threads} thread{'s' if classifier.threads > 1 else ''})")
    return classifier
