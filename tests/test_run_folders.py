"""Run folders are transactions: an interruption at any write, then the same command again,
ends exactly where an uninterrupted run ends; a folder is never left with a config that
disagrees with its checkpoint, and another run's files are not replaced without overwrite."""

import json

import pytest
import torch

import dgmpm_lite.runs as runs_module
import dgmpm_lite.train as train_module
from dgmpm_lite.config import config_differences, load_config
from dgmpm_lite.train import train

WRITERS = ("atomic_write_text", "atomic_save", "append_csv", "truncate_csv")
WRITING_MODULES = (train_module, runs_module)  # where the training loop and the run folder call them


def _config(**overrides):
    base = dict(
        backbone="efficientnet_lite0",
        weights=None,
        width=16,
        size=(48, 64),
        synthetic={"num_frames": 6},
        val_data="",
        checkpoint_every=1,
        num_workers=0,
        stages=[
            {"name": "video", "kind": "video", "steps": 1, "lr": 1e-3},
            {"name": "video-finetune", "kind": "video", "steps": 1, "lr": 3e-4},
        ],
    )
    return load_config("smoke", **{**base, **overrides})


class Interrupted(KeyboardInterrupt):
    pass


def _interrupt_at(monkeypatch, k: int, after: bool) -> list[str]:
    """Make the k-th write of any kind raise (before it happens, or just after); returns the call log."""
    calls = []
    for module, name in [(m, n) for m in WRITING_MODULES for n in WRITERS if hasattr(m, n)]:
        real = getattr(module, name)

        def wrapper(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            if len(calls) == k and not after:
                raise Interrupted
            result = _real(*args, **kwargs)
            if len(calls) == k and after:
                raise Interrupted
            return result

        monkeypatch.setattr(module, name, wrapper)
    return calls


def _state(folder):
    ckpt = torch.load(folder / "last.pt", weights_only=True)
    log = (folder / "train_log.csv").read_text().splitlines()
    return ckpt["model"], [row.split(",")[:3] for row in log]  # step, stage, loss (not the timing)


def _assert_same(folder, reference):
    model, log = _state(folder)
    ref_model, ref_log = reference
    assert log == ref_log
    for k in ref_model:
        torch.testing.assert_close(model[k], ref_model[k], rtol=0, atol=0, msg=k)


def _consistent(folder):
    """The folder's config.json never disagrees with its checkpoint."""
    if (folder / "last.pt").exists() and (folder / "config.json").exists():
        saved = torch.load(folder / "last.pt", weights_only=True)["config"]
        assert not config_differences(saved, json.loads((folder / "config.json").read_text()))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    calls = []
    with pytest.MonkeyPatch.context() as mp:
        calls = _interrupt_at(mp, 0, False)
        train(_config(), folder, progress=False)
    return _state(folder), len(calls)


def test_an_interrupted_run_resumes_to_the_same_end(tmp_path, monkeypatch, reference):
    state, writes = reference
    assert writes >= 6  # config, checkpoints and log rows: every one of them is an interruption point
    for k in range(1, writes + 1):
        for after in (False, True):
            folder = tmp_path / f"k{k}{'a' if after else 'b'}"
            with monkeypatch.context() as mp:
                _interrupt_at(mp, k, after)
                with pytest.raises(Interrupted):
                    train(_config(), folder, progress=False)
            _consistent(folder)
            train(_config(), folder, progress=False)  # the same command again
            _assert_same(folder, state)
            assert not list(folder.glob(".*.tmp-*"))


def test_an_interrupted_overwrite_never_resumes_the_old_checkpoint(tmp_path, monkeypatch, reference):
    state, writes = reference
    old = tmp_path / "old"
    train(_config(seed=1), old, progress=False)
    old_files = {p.name: p.read_bytes() for p in old.iterdir()}
    for k, after in [(k, after) for k in range(1, writes + 1) for after in (False, True)]:
        folder = tmp_path / f"k{k}{'a' if after else 'b'}"
        folder.mkdir()
        for name, data in old_files.items():
            (folder / name).write_bytes(data)
        with monkeypatch.context() as mp:
            _interrupt_at(mp, k, after)
            with pytest.raises(Interrupted):
                train(_config(), folder, overwrite=True, progress=False)
        _consistent(folder)
        try:  # without --overwrite: refused, or resumed from the new run's own checkpoint
            train(_config(), folder, progress=False)
        except (ValueError, FileExistsError) as err:
            assert "--overwrite" in str(err)
            train(_config(), folder, overwrite=True, progress=False)
        _assert_same(folder, state)


def test_another_runs_files_are_kept_without_overwrite(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(_config(seed=5).to_dict()))
    (folder / "train_log.csv").write_text("global_step,stage,loss,lr,seconds\n1,static,0.5,0.001,1.0\n")
    (folder / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(FileExistsError, match="of another run but no last.pt; pass --overwrite"):
        train(_config(), folder, progress=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_finished_run_run_again_changes_nothing(tmp_path, capsys):
    folder = tmp_path / "run"
    cfg = _config(val_data="data_samples/synthetic", val_max_frames=4)
    train(cfg, folder, progress=False)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert len((folder / "val_log.csv").read_text().splitlines()) == 2  # header + the final validation
    train(cfg, folder, progress=False)
    assert "is a finished run" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files  # no second validation row, no new save


def test_a_stale_temporary_file_of_a_killed_save_is_removed(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".last.pt.tmp-999999999").write_bytes(b"half a checkpoint")
    train(_config(), folder, progress=False)
    assert not list(folder.glob(".*.tmp-*"))


TINY = [
    "--config",
    "smoke",
    "--set",
    "backbone=efficientnet_lite0",
    "weights=null",
    "width=16",
    "size=[48,64]",
    "val_data=",
    "num_workers=0",
    'stages=[{"name": "video", "kind": "video", "steps": 3, "lr": 0.001}]',
]


@pytest.mark.parametrize(
    "saved,overwrite,hint",
    [
        (True, False, "interrupted; rerun the same command to resume from its last checkpoint"),
        (True, True, "interrupted; rerun the same command without --overwrite to resume"),
        (False, False, "interrupted; nothing of this run was saved yet; rerun the same command to start again"),
    ],
)
def test_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys, saved, overwrite, hint):
    from dgmpm_lite.cli import main

    real_train = train_module.train

    def interrupted(cfg, out, overwrite=False, **budget):
        if saved:
            real_train(cfg, out, overwrite=overwrite, max_steps=1, progress=False)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", interrupted)
    assert main(["train", *TINY, "--out", str(tmp_path / "run")] + (["--overwrite"] if overwrite else [])) == 130
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err


def test_ctrl_c_on_a_finished_run_given_more_stages_says_resume(tmp_path, monkeypatch, capsys):
    # interrupted before the longer run's first checkpoint: last.pt is still the short run's,
    # and the same command goes on from it
    from dgmpm_lite.cli import main

    assert main(["train", *TINY, "--out", str(tmp_path / "run")]) == 0
    longer = [*TINY[:-1], TINY[-1][:-1] + ', {"name": "more", "kind": "video", "steps": 2, "lr": 0.001}]']

    def interrupted(cfg, out, overwrite=False, **budget):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", interrupted)
    capsys.readouterr()
    assert main(["train", *longer, "--out", str(tmp_path / "run")]) == 130
    assert "rerun the same command to resume from its last checkpoint" in capsys.readouterr().err


def test_minutes_stops_with_a_checkpoint_and_the_same_command_goes_on(tmp_path, monkeypatch, capsys):
    # a lent GPU or a Colab session: --minutes ends the call with a checkpoint and the model as
    # it is; the same command (with the same --export) finishes the run and replaces that export
    from types import SimpleNamespace

    from dgmpm_lite.checkpoints import load_checkpoint
    from dgmpm_lite.cli import main

    def exported_step():
        return json.loads(load_checkpoint(tmp_path / "m.pt")["meta"])["global_step"]

    ticks = iter(range(0, 10_000, 40))  # a clock that advances 40 s whenever it is read
    fast = SimpleNamespace(monotonic=lambda: next(ticks), perf_counter=train_module.time.perf_counter)
    monkeypatch.setattr(train_module, "time", fast)
    cmd = ["train", *TINY, "--out", str(tmp_path / "run"), "--export", str(tmp_path / "m.pt")]
    assert main([*cmd, "--minutes", "1"]) == 0
    out = capsys.readouterr().out
    assert load_checkpoint(tmp_path / "run" / "last.pt")["global_step"] == 1  # 40 s < 1 min <= 80 s
    assert "the run is not finished" in out and "stopped after --minutes 1; rerun the same command" in out
    assert exported_step() == 1

    monkeypatch.undo()  # the real clock: an hour is plenty for the two steps left
    assert main([*cmd, "--minutes", "60"]) == 0
    assert "stopped" not in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "run" / "last.pt")["global_step"] == 3
    assert exported_step() == 3

    # the same recipe in another run folder does not replace that model without --overwrite,
    # nor does another recipe
    for other in (["--out", str(tmp_path / "other")], ["--out", str(tmp_path / "run"), "--set", "seed=1"]):
        assert main([*cmd, *other]) != 0
        assert "m.pt exists; pass --overwrite" in capsys.readouterr().err
        assert exported_step() == 3
    with pytest.raises(SystemExit):
        main([*cmd, "--minutes", "0"])
    assert "--minutes: must be a positive number, got '0'" in capsys.readouterr().err
