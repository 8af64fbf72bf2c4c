"""ExecSpawner profiles: the options form from `acactl profiles`, form parsing,
ACACTL_USER_GROUPS, and the start timeout set before the hub starts its clock."""

import asyncio
import json
from types import SimpleNamespace

import pytest

from acactl.spawner import render_options_form, selected_start_timeout



PROFILES = {
    "start_timeout": 300,
    "profiles": [
        {
            "slug": "small",
            "display_name": "Small <1 CPU>",
            "description": "For \"exercises\"",
            "default": True,
            "start_timeout": 300,
            "options": [
                {
                    "name": "image",
                    "display_name": "Image",
                    "default": "python",
                    "choices": [
                        {"slug": "python", "display_name": "Python"},
                        {"slug": "r", "display_name": "R", "start_timeout": 600},
                    ],
                }
            ],
            "groups": [],
            "users": [],
        },
        {"slug": "gpu", "display_name": "GPU", "default": False, "start_timeout": 1800, "options": [],
         "groups": ["gpu-users"], "users": []},
    ],
}
START_OK = {"stdout": {"name": "a", "url": "http://a", "state": {"id": "x"}}}


def test_form_renders_profiles_and_choices_escaped():
    form = render_options_form(PROFILES)
    assert form.count('type="radio" name="profile"') == 2
    assert 'value="small" checked' in form
    assert 'name="small--image"' in form
    assert '<option value="python" selected>Python</option>' in form
    assert "Small &lt;1 CPU&gt;" in form and "<1 CPU>" not in form
    assert "&quot;exercises&quot;" in form


def test_no_form_for_a_single_plain_profile_or_none():
    assert render_options_form({"profiles": []}) == ""
    one = {"profiles": [{"slug": "only", "options": []}]}
    assert render_options_form(one) == ""


def test_options_from_form_keeps_only_the_chosen_profiles_fields(make_spawner):
    sp = make_spawner()
    formdata = {"profile": ["small"], "small--image": ["r"], "gpu--image": ["cuda"], "evil": ["x"]}
    assert sp.options_from_form(formdata) == {"profile": "small", "image": "r"}
    assert sp.options_from_form({}) == {}


def test_start_timeout_is_acactls_selection():
    # acactl chooses (`profiles --selected`); the spawner keeps no copy of the rules.
    assert selected_start_timeout({**PROFILES, "selected": {"profile": "gpu", "start_timeout": 1800}}) == 1800
    assert selected_start_timeout(PROFILES) is None
    assert selected_start_timeout({"selected": {"start_timeout": "600"}}) is None


def groups_user():
    return SimpleNamespace(
        name="marcus", escaped_name="marcus", url="/user/marcus/",
        groups=[SimpleNamespace(name="students"), SimpleNamespace(name="gpu-users")],
    )


@pytest.mark.asyncio
async def test_pre_spawn_hook_sets_start_timeout_from_the_chosen_profile(fake, make_spawner):
    fake.script(profiles={"stdout": {**PROFILES, "selected": {"profile": "gpu", "choices": {}, "start_timeout": 1800}}})
    hooked = []
    sp = make_spawner(user_options={"profile": "gpu"}, term_grace=20, pre_spawn_hook=lambda s: hooked.append(s))
    sp.user = groups_user()
    await asyncio.wait_for(sp.run_pre_spawn_hook(), 10)
    assert sp.start_timeout == 1800 + 20 + 40
    assert hooked == [sp], "the configured pre_spawn_hook still runs"
    (call,) = fake.calls()
    assert call["argv"] == ["profiles", "-o", "json", "--user", "marcus", "--selected"]
    assert json.loads(call["env"]["ACACTL_USER_OPTIONS"]) == {"profile": "gpu"}
    assert json.loads(call["env"]["ACACTL_USER_GROUPS"]) == ["gpu-users", "students"]
    assert "ACACTL_USER_GROUPS" not in call["env"]["ACACTL_FORWARD"].split(",")


@pytest.mark.asyncio
async def test_failing_profiles_leaves_start_timeout_alone(fake, make_spawner):
    fake.script(profiles={"stdout": {"error": {"code": "ConfigInvalid", "message": "bad"}}, "exit": 2})
    sp = make_spawner(start_timeout=360)
    await asyncio.wait_for(sp.run_pre_spawn_hook(), 10)
    assert sp.start_timeout == 360


@pytest.mark.asyncio
async def test_profile_start_timeout_can_be_turned_off(fake, make_spawner):
    fake.script(profiles={"stdout": PROFILES})
    sp = make_spawner(start_timeout=8, profile_start_timeout=False)
    await asyncio.wait_for(sp.run_pre_spawn_hook(), 10)
    assert sp.start_timeout == 8
    assert fake.calls() == []


@pytest.mark.asyncio
async def test_options_form_is_rendered_from_acactl(fake, make_spawner):
    fake.script(profiles={"stdout": PROFILES})
    sp = make_spawner()
    form = await asyncio.wait_for(sp.get_options_form(), 10)
    assert 'name="profile"' in form
    sp = make_spawner(profiles_form=False)
    assert await sp.get_options_form() == ""


@pytest.mark.asyncio
async def test_start_passes_groups_and_options(fake, make_spawner):
    fake.script(start=START_OK)
    sp = make_spawner(user_options={"profile": "small", "image": "r"})
    sp.user = groups_user()
    await asyncio.wait_for(sp.start(), 10)
    (call,) = fake.calls()
    assert json.loads(call["env"]["ACACTL_USER_OPTIONS"]) == {"profile": "small", "image": "r"}
    assert json.loads(call["env"]["ACACTL_USER_GROUPS"]) == ["gpu-users", "students"]
