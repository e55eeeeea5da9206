"""The Colab notebook runs top to bottom (outside Colab: its quick-start smoke test), and is committed clean."""

import nbformat
import pytest
import tomllib

from conftest import REPO

NOTEBOOK = REPO / "experiments" / "colab.ipynb"


def test_notebook_is_committed_without_outputs_and_names_the_repository():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    url = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    assert f'REPOSITORY = "{url}"' in code[0].source, "the notebook installs from [project.urls] Repository"


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert (tmp_path / "mlflow.db").is_file(), "the quick start ran in the notebook's folder"
    tables = [o for o in notebook.cells[-2].outputs if o.output_type == "execute_result"]
    assert tables and "selection_accuracy" in tables[0]["data"]["text/plain"], "the runs table lists the quick start"


def test_colab_keeps_its_work_on_drive(tmp_path, monkeypatch):
    """In Colab the store, artifacts, checkpoints and cache live on Drive (what resumes after a disconnect);
    elsewhere in the folder the notebook runs in. The cell runs here as it would outside Colab."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and "KEEP_ON_DRIVE = COLAB" in c.source]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMOTION_CACHE", str(tmp_path / "cache"))
    scope = {"COLAB": False}
    exec(cell.source, scope)
    assert scope["KEEP_ON_DRIVE"] is False and scope["PATHS"]["store"] == tmp_path / "mlflow.db"
    drive = scope["work_paths"](True)
    work = drive["work"]
    assert str(work) == "/content/drive/MyDrive/emotion"
    assert {k: p.relative_to(work).as_posix() for k, p in drive.items() if k != "work"} == {
        "store": "mlflow.db", "artifacts": "mlruns", "checkpoints": "checkpoints", "cache": "cache"}
    quick_start = next(c.source for c in notebook.cells if "experiment=quickstart" in c.source)
    assert notebook.cells.index(cell) < [c.source for c in notebook.cells].index(quick_start), \
        "the jobs run in the work folder, so their store and checkpoints follow it"
