"""The FER+ reader on a tiny FER+-layout folder written by the test, and the evaluate command."""

import numpy as np
import pytest

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.data.ferplus import FERPLUS_VOTES, ferplus_targets
from emotion.data.synthetic import CLASSES
from emotion.evaluate import evaluate
from emotion.train import train

from conftest import SHARED, SMOKE, isolated, make_cfg
from helpers.files import ROWS, write_ferplus

CLASSES = list(CLASSES)


def ferplus(root, *overrides: str):
    """`data=ferplus` at `root` with `overrides` (`data.` keys), as a run builds it."""
    return build(make_cfg(["data=ferplus", f"data.root={root}", *(f"data.{o}" for o in overrides)]).data, "data")


def test_majority_labels_drop_ties_and_non_faces():
    keep, targets = ferplus_targets(np.array(ROWS), CLASSES, "majority", True)
    assert keep.tolist() == [True, True, False, False, True, True]
    assert [CLASSES[i] for i in targets.argmax(axis=1)] == ["happy", "neutral", "uncertain", "disgust"]
    assert (targets.sum(axis=1) == 1).all() and set(np.unique(targets)) == {0.0, 1.0}


def test_probability_labels_are_vote_shares():
    keep, targets = ferplus_targets(np.array(ROWS), CLASSES, "probability", True)
    np.testing.assert_allclose(targets.sum(axis=1), 1, rtol=1e-6)
    neutral = targets[1]
    assert neutral[CLASSES.index("neutral")] == pytest.approx(6 / 8)  # single votes dropped as noise
    assert neutral[CLASSES.index("uncertain")] == pytest.approx(2 / 8)
    assert [CLASSES[i] for i in targets.argmax(axis=1)] == ["happy", "neutral", "uncertain", "disgust"]
    _, raw = ferplus_targets(np.array(ROWS), CLASSES, "probability", False)
    assert raw[1][CLASSES.index("surprise")] == pytest.approx(1 / 10)


def test_reader_on_the_published_layout(tmp_path):
    root = write_ferplus(tmp_path / "ferplus", splits=("FER2013Train", "FER2013Valid", "FER2013Test"))
    data = ferplus(root, "label_mode=majority")
    assert set(data.splits) == {"train", "val", "test"}
    # The selection split is a stratified slice of FER2013Train; FER2013Valid is the test split.
    assert len(data.splits["train"]) == 4 and len(data.splits["val"]) == 4
    assert {i.split("/")[0] for i in data.splits["val"].ids} == {"FER2013Train"}
    assert not set(data.splits["train"].ids) & set(data.splits["val"].ids)
    images = data.splits["test"].images
    assert images.shape == (8, 48, 48, 3) and images.dtype == np.uint8
    assert (images[..., 0] == images[..., 2]).all()  # gray in, RGB out
    assert data.splits["test"].ids[0] == "FER2013Valid/fer0000000.png"
    official = ferplus(root, "label_mode=majority", "test_folder=FER2013Test")
    assert official.splits["test"].ids[0] == "FER2013Test/fer0000000.png"
    assert official.fingerprint != data.fingerprint
    with pytest.raises(EmotionError, match="cannot be FER2013Train"):
        ferplus(root, "test_folder=FER2013Train")


def test_uncertain_can_be_dropped(tmp_path):
    root = write_ferplus(tmp_path / "ferplus")
    data = ferplus(root, "label_mode=probability", "drop_uncertain=true")
    assert data.classes == [c for c in CLASSES if c != "uncertain"]
    assert len(data.splits["train"]) + len(data.splits["val"]) == 6 and data.splits["train"].targets.shape[1] == 8


def test_reader_bad_input(tmp_path):
    with pytest.raises(EmotionError, match="FER2013Train not found"):
        ferplus(tmp_path)
    root = write_ferplus(tmp_path / "ferplus")
    (root / "FER2013Valid" / "label.csv").unlink()
    with pytest.raises(EmotionError, match="label.csv not found"):
        ferplus(root)


def test_vote_columns_map_to_our_classes():
    assert set(FERPLUS_VOTES) - {"NF"} == set(CLASSES)


def test_recipe_composes():
    cfg = make_cfg(["experiment=ferplus_cpu", "data.root=/data/ferplus"])
    assert cfg.data.label_mode == "probability" and cfg.backbone.input_size == 48
    assert cfg.tracking.model_name == "emotion-ferplus" and cfg.eval.tta_flip


@pytest.mark.slow
def test_train_and_evaluate_on_a_tiny_ferplus(workdir):
    root = write_ferplus(workdir / "ferplus", splits=("FER2013Train", "FER2013Valid", "FER2013Test"))
    train(make_cfg(["experiment=ferplus_cpu", f"data.root={root}", "schedule.stages.scratch.epochs=1",
                    "schedule.batch_size=4", *isolated(workdir)]))
    accuracy = evaluate(make_cfg([f"data.root={root}", "split=test", *isolated(workdir),
                                  "tracking.model_name=emotion-ferplus"], config_name="evaluate"))
    assert 0 <= accuracy <= 1
    import mlflow

    [run] = mlflow.search_runs(experiment_names=["evaluation"], output_format="list")
    assert run.data.params["split"] == "test" and "test_macro_f1" in run.data.metrics


def test_evaluate_refuses_a_missing_split(store):
    with pytest.raises(EmotionError, match="has no split 'holdout'"):
        evaluate(make_cfg(["data=synthetic", "split=holdout", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE],
                          config_name="evaluate"))


@pytest.mark.skipif(not (SHARED / "data" / "ferplus" / "FER2013Valid").is_dir(), reason="FER+ not in ../shared")
def test_real_ferplus_counts():
    data = ferplus(SHARED / "data" / "ferplus", "label_mode=majority")
    counts = data.counts()["train"]
    assert counts["neutral"] > counts["happy"] > counts["surprise"] > counts["contempt"] > 100
    assert len(data.splits["test"]) == 3419, "FER2013Valid: ties and not-a-face dropped"
    assert 2600 < len(data.splits["val"]) < 2800, "a tenth of FER2013Train selects"
