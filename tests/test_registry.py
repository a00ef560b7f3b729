"""The task registry: names, defaults, plugins, and errors that say what to do."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
import torch

import envs
from envs import extras, registry
from envs.tasks.mpe import make_mpe


def test_builtin_mpe_tasks_are_listed_with_their_family():
    names = {t.name: t.family for t in envs.registered_tasks()}
    for task in ("mpe2/simple_spread", "mpe2/simple_reference", "mpe2/simple_speaker_listener"):
        assert names[task] == "mpe2"
    assert {t.name for t in envs.registered_tasks("mpe2")} >= {"mpe2/simple_spread"}
    assert envs.registered_tasks("no-such-family") == []


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("mpe2/simple_sprad", "mpe2/simple_spread"),
        ("simple_sprea", "mpe2/simple_spread"),
        ("MPE2/Simple_Reference", "mpe2/simple_reference"),
    ],
)
def test_unknown_task_suggests_close_names(typo, expected):
    with pytest.raises(envs.UnknownTaskError, match=f"did you mean {expected}"):
        envs.make(typo)


def test_a_bare_task_name_resolves_when_one_family_has_it():
    assert envs.get_entry("simple_spread").name == "mpe2/simple_spread"
    envs.register("other/simple_spread", make_mpe, scenario="simple_spread")
    try:
        with pytest.raises(envs.UnknownTaskError, match="ambiguous: mpe2/simple_spread, other/simple_spread"):
            envs.get_entry("simple_spread")
    finally:
        envs.unregister("other/simple_spread")


def test_unknown_task_without_close_match_says_how_to_list():
    with pytest.raises(envs.UnknownTaskError, match="no close match.*python -m envs list"):
        envs.make("zzzzzzzz")


def test_make_sets_name_and_family_and_passes_kwargs_over_defaults():
    env = envs.make("mpe2/simple_spread", num_envs=2, N=4, max_cycles=7)
    assert env.spec.name == "mpe2/simple_spread" and env.spec.family == "mpe2"
    assert env.spec.num_agents == 4 and env.spec.max_episode_steps == 7
    assert env.spec.num_envs == 2 and env.spec.device == torch.device("cpu")


def test_seed_given_to_make_seeds_the_first_reset():
    a = envs.make("mpe2/simple_spread", seed=3).reset()
    b = envs.make("mpe2/simple_spread").reset(seed=3)
    c = envs.make("mpe2/simple_spread").reset(seed=4)
    assert torch.equal(a.state, b.state)
    assert not torch.equal(a.state, c.state)


def test_register_refuses_duplicates_unless_overridden():
    envs.register("test/dup", make_mpe, scenario="simple_spread")
    try:
        with pytest.raises(ValueError, match="already registered"):
            envs.register("test/dup", make_mpe, scenario="simple_reference")
        envs.register("test/dup", make_mpe, override=True, scenario="simple_reference")
        assert envs.make("test/dup").spec.num_agents == 2
        assert envs.get_entry("test/dup").family == "test"
    finally:
        envs.unregister("test/dup")


def test_register_rejects_bad_entry_points():
    with pytest.raises(ValueError, match="callable or a 'module:attribute'"):
        envs.register("test/bad", "not_a_module_path")


def test_invalid_num_envs_is_refused():
    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        envs.make("mpe2/simple_spread", num_envs=0)


def test_missing_dependency_names_the_extra_to_install(monkeypatch):
    """A module missing inside a task's factory (past the extra's own check) names the module and
    the extra's install command, in the form that fits how the suite was installed."""
    envs.register("test/needs_ray", "marlsuite_test_missing_pkg.env:make", extra="ray")
    try:
        with pytest.raises(
            envs.MissingDependencyError, match=r"marlsuite_test_missing_pkg.*pip install -e \"\.\[ray\]\""
        ):
            envs.make("test/needs_ray")  # this checkout is a clone
        monkeypatch.setattr(extras, "installed_from_source", lambda: False)
        with pytest.raises(envs.MissingDependencyError, match=r"pip install 'marlsuite\[ray\]'"):
            envs.make("test/needs_ray")  # as from a wheel
    finally:
        envs.unregister("test/needs_ray")


@pytest.mark.parametrize(
    ("task", "hidden", "extra"),
    [
        ("SafeAnt2x4Corridor", "mujoco", "mujoco"),
        ("mamujoco/HalfCheetah-2x3", "gymnasium_robotics", "mujoco"),
        ("bidexhands/ShadowHandOver", "mujoco_warp", "hands"),
        ("smax/3m", "jaxmarl", "smax"),
        ("football/academy_3_vs_1_with_keeper", "gfootball", "football"),
    ],
)
def test_every_family_without_its_extra_gives_the_install_command(monkeypatch, task, hidden, extra):
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    with pytest.raises(envs.MissingDependencyError) as error:
        envs.make(task)
    message = str(error.value)
    assert hidden in message and f'pip install -e ".[{extra}]"' in message, message
    monkeypatch.setattr(extras, "installed_from_source", lambda: False)
    with pytest.raises(envs.MissingDependencyError, match=re.escape(f"pip install 'marlsuite[{extra}]'")):
        envs.make(task)


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "envs", "check", "SafeAnt2x4Corridor"],
        ["-m", "baselines.run", "--env", "SafeAnt2x4Corridor", "--algo", "macpo", "--out", "{tmp}/run"],
    ],
)
def test_commands_without_mujoco_end_in_the_clean_error(tmp_path, argv):
    """The commands a user types, in a Python where MuJoCo cannot be imported: exit status 2 and
    the install command, no traceback."""
    code = (
        "import runpy, sys; sys.modules['mujoco'] = None; "
        f"sys.argv = ['python'] + {[a.format(tmp=tmp_path) for a in argv[2:]]!r}; "
        f"runpy.run_module({argv[1]!r}, run_name='__main__', alter_sys=True)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        "needs MuJoCo and Gymnasium-Robotics" in proc.stderr and 'pip install -e ".[mujoco]"' in proc.stderr
    )


def test_a_task_module_that_cannot_be_imported_says_what_was_looked_up(tmp_path, monkeypatch):
    with pytest.raises(envs.UnknownTaskError) as error:
        envs.make("mytask_not_on_path:Name")
    message = str(error.value)
    assert "no module 'mytask_not_on_path' on the Python path" in message and "PYTHONPATH" in message
    # a module that is there but imports something missing names that package instead
    (tmp_path / "mytask_broken.py").write_text("import marlsuite_test_absent_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(envs.MissingDependencyError, match="imports 'marlsuite_test_absent_dependency'"):
        envs.make("mytask_broken:Name")
    # and the commands say so without a traceback
    for argv in (
        ["check", "mytask_not_on_path:Name"],
        ["--env", "mytask_not_on_path:Name", "--algo", "mappo"],
    ):
        module = "envs" if argv[0] == "check" else "baselines.run"
        proc = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "PYTHONPATH" in proc.stderr


def test_missing_dependency_imported_inside_the_factory():
    def factory(**kwargs):
        import marlsuite_test_missing_sim  # noqa: F401

    envs.register("test/lazy_missing", factory)
    try:
        with pytest.raises(envs.MissingDependencyError, match="pip install marlsuite_test_missing_sim"):
            envs.make("test/lazy_missing")
    finally:
        envs.unregister("test/lazy_missing")


def test_a_bug_in_our_own_code_is_not_reported_as_a_missing_dependency():
    def factory(**kwargs):
        import envs.no_such_module  # noqa: F401

    envs.register("test/own_bug", factory)
    try:
        with pytest.raises(ModuleNotFoundError) as info:
            envs.make("test/own_bug")
        assert not isinstance(info.value, envs.MissingDependencyError)
    finally:
        envs.unregister("test/own_bug")


USER_MODULE = textwrap.dedent(
    """
    import envs
    from envs.tasks.mpe import make_mpe

    envs.register("UserSpread", make_mpe, family="user", scenario="simple_spread", N=2)
    """
)


def test_module_colon_task_imports_the_module_first(tmp_path, monkeypatch):
    (tmp_path / "marlsuite_user_tasks.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        env = envs.make("marlsuite_user_tasks:UserSpread", num_envs=2)
        assert env.spec.name == "UserSpread" and env.spec.family == "user"
        assert env.spec.num_agents == 2
    finally:
        envs.unregister("UserSpread")
        sys.modules.pop("marlsuite_user_tasks", None)


def test_entry_point_group_registers_tasks_of_installed_packages(tmp_path, monkeypatch):
    """A real distribution on sys.path with a `marlsuite.envs` entry point."""
    (tmp_path / "marlsuite_plugin_demo.py").write_text(
        textwrap.dedent(
            """
            import envs
            from envs.tasks.mpe import make_mpe

            def register_all():
                envs.register("plugin/spread", make_mpe, scenario="simple_spread", N=5)
            """
        )
    )
    dist = tmp_path / "marlsuite_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: marlsuite-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[marlsuite.envs]\ndemo = marlsuite_plugin_demo:register_all\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    try:
        assert "plugin/spread" in {t.name for t in envs.registered_tasks()}
        assert envs.make("plugin/spread").spec.num_agents == 5
    finally:
        envs.unregister("plugin/spread")
        sys.modules.pop("marlsuite_plugin_demo", None)


def test_a_broken_plugin_warns_and_leaves_other_tasks_working(tmp_path, monkeypatch):
    dist = tmp_path / "marlsuite_broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: marlsuite-broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[marlsuite.envs]\nbroken = marlsuite_no_such_plugin:register\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    with pytest.warns(UserWarning, match="could not load marlsuite task plugin 'broken'"):
        tasks = envs.registered_tasks()
    assert "mpe2/simple_spread" in {t.name for t in tasks}


def test_an_option_the_task_does_not_take_is_named_with_the_ones_it_does():
    with pytest.raises(
        ValueError, match=r"'mpe2/simple_spread' does not take the option 'max_episode_steps'.*max_cycles"
    ):
        envs.make("mpe2/simple_spread", max_episode_steps=10)
