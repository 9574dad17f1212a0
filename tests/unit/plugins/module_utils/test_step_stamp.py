"""One 'is this step current' helper (step_stamp) for the ilab steps, ilab_env's environment
and the harvest's checkpoint; ilab_stamp is the same module under its earlier name."""

from __future__ import annotations

import hashlib
import json

from ansible_collections.autoport.zos.plugins.module_utils import ilab_stamp, patch_replay, step_stamp


def test_ilab_stamp_is_step_stamp_under_its_earlier_name():
    for name in ("StampError", "fingerprint", "read_stamp", "stamp_status", "write_stamp", "STAMP_FORMAT"):
        assert getattr(ilab_stamp, name) is getattr(step_stamp, name)


def test_the_environment_stamp_takes_the_pinned_fingerprint_and_the_earlier_bare_marker(tmp_path):
    pins = hashlib.sha256(b"variant=cpu\npython=3.11").hexdigest()
    marker = tmp_path / ".autoport-ilab-pins"
    assert step_stamp.stamp_status(str(marker), pins) == (False, "no stamp at %s" % marker)
    # What ilab_env wrote before stamps: the fingerprint and a newline.
    marker.write_text(pins + "\n", encoding="utf-8")
    assert step_stamp.stamp_status(str(marker), pins) == (True, "inputs unchanged and outputs present")
    assert step_stamp.stamp_status(str(marker), "0" * 64)[0] is False
    # The bare marker already says what a stamp would: writing one changes nothing.
    assert step_stamp.write_stamp(str(marker), pins) is False
    # A new environment gets a stamp; it is current, and writing it again changes nothing.
    marker.unlink()
    assert step_stamp.write_stamp(str(marker), pins) is True
    assert json.loads(marker.read_text(encoding="utf-8"))["sha256"] == pins
    assert step_stamp.stamp_status(str(marker), pins)[0] is True
    assert step_stamp.write_stamp(str(marker), pins) is False
    marker.write_text("not a fingerprint\n", encoding="utf-8")
    assert step_stamp.read_stamp(str(marker)) is None


def test_the_harvest_checkpoint_asks_the_same_helper():
    material = {"port": "strkitport", "patches": [["a.patch", "0" * 64]], "version": 3}
    # The checkpoint's fingerprint is the one harvests made before (sorted JSON), so a checkpoint resumes.
    assert step_stamp.values_digest(material) == hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()
    assert step_stamp.same_fingerprint({"fingerprint": "abc", "builds": {}}, "abc")
    assert not step_stamp.same_fingerprint({"fingerprint": "abc"}, "abd")
    assert not step_stamp.same_fingerprint(None, "abc")
    assert patch_replay.step_stamp is step_stamp
