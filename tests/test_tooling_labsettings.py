"""bncourse lab-settings: widget-state saving on, other overrides kept."""

from __future__ import annotations

import json

from bncourse.tooling.labsettings import install, main, settings_path


def test_install_turns_on_widget_state_saving_and_keeps_other_settings(tmp_path):
    path = settings_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    )
    assert install(tmp_path) == path
    settings = json.loads(path.read_text())
    assert settings["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}


def test_the_command_writes_into_a_fresh_environment(tmp_path, capsys):
    assert main(["--prefix", str(tmp_path)]) == 0
    assert str(settings_path(tmp_path)) in capsys.readouterr().out
    assert json.loads(settings_path(tmp_path).read_text())[
        "@jupyter-widgets/jupyterlab-manager:plugin"
    ]["saveState"]


def test_news_and_update_checks_are_off_with_values_jupyterlab_accepts(tmp_path):
    import sys
    from pathlib import Path

    settings = json.loads(install(tmp_path).read_text())
    chosen = settings["@jupyterlab/apputils-extension:notification"]
    schema_path = (
        Path(sys.prefix)
        / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    )
    schema = json.loads(schema_path.read_text())["properties"]
    allowed_news = [option["const"] for option in schema["fetchNews"]["oneOf"]]
    assert chosen["fetchNews"] in allowed_news and chosen["fetchNews"] != "true"
    assert schema["checkForUpdates"]["type"] == "boolean" and chosen["checkForUpdates"] is False
