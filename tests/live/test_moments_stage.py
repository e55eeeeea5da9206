"""The screening's settings reach its moments stage unchanged, so the live per-frame records are the ones
moments would make; what the screening sets itself cannot be overridden in `moments=[...]`."""

import pytest

from emotion.core.errors import EmotionError
from emotion.live.folder import Layout
from emotion.live.moments_stage import MomentsStage, passed_on
from emotion.live.session import groups_of
from emotion.schema import validate

from conftest import make_cfg


def test_the_screening_settings_reach_moments_unchanged(tmp_path):
    odd = tmp_path / "it's a \\ path" / "cache"
    cfg = make_cfg(["sources=[a.mp4]", "detector=haar", "engine.threads=1", "fps=2.5", "scoring.weights.happy=2.5",
                    f'paths.cache_dir="{odd}"', "tracking.model_name=emotion-synthetic"],
                   config_name="screen")
    stage = MomentsStage(Layout(tmp_path), passed_on("models:/m/1", cfg.fps, cfg.classes, cfg.engine, cfg.detector,
                                                     cfg.scoring, cfg.tracking, cfg.paths, None), ['shots=none'])
    m = stage.composed
    for group in ("engine", "detector", "scoring", "paths"):
        assert m[group] == cfg[group], group
    assert (m.model, m.fps, list(m.classes), m.tracking.model_name) == ("models:/m/1", 2.5, list(cfg.classes),
                                                                          "emotion-synthetic")
    assert m.paths.cache_dir == str(odd) and m.shots.detector == "none"
    assert m.manifest == str(tmp_path / "viewers.csv") and m.output_dir == str(tmp_path)


@pytest.mark.parametrize("override, problem", [
    ('moments=["engine.threads=1"]', "engine is set on emotion.screen itself"),
    ('moments=["shots=nope"]', "config: moments: In 'moments': Could not find 'shots/nope'"),
    ('moments=["sync.min_confidence=3"]', "config: moments: sync.min_confidence must be <= 1.0"),
    ("names=[a,b]", "names: 2 given for 1 camera(s) and source(s)"),
])
def test_bad_screen_configs_are_named(override, problem):
    with pytest.raises(EmotionError, match="^config: ") as caught:
        validate(make_cfg(["sources=[a.mp4]", override], config_name="screen"), "screen")
    assert problem in str(caught.value)


def test_groups_are_named_as_given_or_after_their_source():
    groups = groups_of([0, 2], ["alsa:hw:1"], ["/x/sofa.mp4", "rtsp://host/a", "/y/sofa.mp4"], [])
    assert [g.viewer for g in groups] == ["camera0", "camera2", "sofa", "stream2", "sofa_2"]
    assert (groups[0].microphone, groups[1].microphone) == ("alsa:hw:1", None)
    assert [g.viewer for g in groups_of([0], [], ["a.mp4"], ["front row", "back"])] == ["front_row", "back"]
