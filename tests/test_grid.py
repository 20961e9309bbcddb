"""The aueb MLP grid: its cells, the slice the short profiles run, and its results table."""
from conftest import synthetic_dataset
from fmnist_helpers.studies import grid
from fmnist_helpers.base.params import Profile


def test_the_full_grid_has_the_studys_24_cells():
    cells = grid.grid_cells("full")
    assert len(cells) == 24 and len(set(cells)) == 24
    assert {c.batch_size for c in cells} == {128, 256, 512} and {c.depth for c in cells} == {2, 3}
    assert {(c.optimizer, c.learning_rate) for c in cells} == set(grid.OPTIMIZER_SETTINGS)


def test_the_slice_contains_the_studys_best_cell_per_depth():
    names = {c.name for c in grid.grid_cells("slice")}
    assert "aueb_mlp2-b512-adam0.001" in names and "aueb_mlp3-b128-adam0.0001" in names


def test_an_unknown_grid_size_is_refused():
    import pytest

    with pytest.raises(ValueError, match="'slice'"):
        grid.grid_cells("half")


def test_run_grid_reports_train_val_and_test_scores_per_cell(tmp_path):
    one = Profile("t", "", train_subset=400, max_epochs=1, embedding_points=0, augment_examples=0)
    cells = grid.grid_cells("slice")[:2]
    ds = synthetic_dataset(12_400, 50)  # the aueb recipe holds out 12,000 images before the profile's cut
    table = grid.run_grid(ds, cells, one, output_dir=tmp_path, precision="float32",
                          progress="none")
    assert len(table) == 2
    assert {"train accuracy", "val accuracy", "test accuracy", "test loss", "epochs"} <= set(table.columns)
    assert table["study's best"].all()
    assert table["test accuracy"].between(0, 1).all()


def test_run_grid_reports_validation_accuracy_at_the_epoch_the_model_kept(tmp_path):
    from fmnist_helpers.training import store

    two = Profile("t", "", train_subset=400, max_epochs=2, embedding_points=0, augment_examples=0)
    cell = grid.grid_cells("slice")[0]
    table = grid.run_grid(synthetic_dataset(12_400, 50), [cell], two, output_dir=tmp_path, precision="float32",
                          progress="none")
    record = store.load_trained(tmp_path, cell.name, spec=None, say=None).record
    assert table["val accuracy"].iloc[0] == record["val_accuracy"]
