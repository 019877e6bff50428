"""Re-importing never loses data without a word: another import or a sample is replaced only
with --replace (kept for --undo) or added to with --append (rows conserved), and a file with
no usable row changes nothing."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from ingest import contract
from ingest import load as load_module
from ingest.errors import LoadError
from ingest.generate import generate
from ingest.load import load

HEADER = "customer_id,order_date,amount\n"


def _csv(folder, name: str, *rows: str):
    path = folder / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    return path


def _ids(out) -> list[str]:
    return pq.read_table(out / contract.TRANSACTIONS_FILE).column("customer_id").to_pylist()


def test_another_file_is_refused_without_replace_and_replace_keeps_an_undo(tmp_path, capsys):
    out = tmp_path / "raw"
    a = _csv(tmp_path, "a.csv", "A1,2024-01-05,1", "A2,2024-01-06,2")
    b = _csv(tmp_path, "b.csv", "B1,2024-02-05,3")
    load(a, out)
    with pytest.raises(LoadError, match=r"holds an import of a\.csv \(2 rows\).*--replace"):
        load(b, out)
    assert _ids(out) == ["A1", "A2"]

    summary = load(b, out, replace=True)
    assert _ids(out) == ["B1"] and _ids(out / ".previous") == ["A1", "A2"]
    assert "replaced an import of a.csv (2 rows); kept in" in summary.report()

    load_module.main(["--undo", "--out", str(out)])
    assert _ids(out) == ["A1", "A2"]
    assert "holds an import of a.csv (2 rows) again" in capsys.readouterr().out
    load_module.main(["--undo", "--out", str(out)])  # undo of the undo: redo
    assert _ids(out) == ["B1"]


def test_the_same_file_again_needs_no_flag_and_keeps_the_undo(tmp_path):
    out = tmp_path / "raw"
    a = _csv(tmp_path, "a.csv", "A1,2024-01-05,1")
    b = _csv(tmp_path, "b.csv", "B1,2024-02-05,3")
    load(a, out)
    load(b, out, replace=True)
    summary = load(b, out)  # e.g. a retried command
    assert summary.mode == "same" and _ids(out) == ["B1"]
    assert _ids(out / ".previous") == ["A1"]  # the undo still reaches the state before b


def test_a_header_only_file_changes_nothing(tmp_path, capsys):
    out = tmp_path / "raw"
    load(_csv(tmp_path, "a.csv", "A1,2024-01-05,1"), out)
    before = (out / contract.TRANSACTIONS_FILE).read_bytes()
    empty = _csv(tmp_path, "empty.csv")
    for flags in ([], ["--replace"], ["--append"]):
        with pytest.raises(SystemExit) as exited:
            load_module.main([str(empty), "--out", str(out), *flags])
        assert exited.value.code == 2
        assert "no usable rows (read 0)" in capsys.readouterr().err
    assert (out / contract.TRANSACTIONS_FILE).read_bytes() == before
    assert not (out / ".previous").exists()
    # also into an empty landing zone: nothing is written at all
    with pytest.raises(LoadError, match="no usable rows"):
        load(empty, tmp_path / "fresh")
    assert not (tmp_path / "fresh" / contract.TRANSACTIONS_FILE).exists()


def test_a_sample_with_profiles_is_not_replaced_by_an_empty_profile_table(tmp_path):
    generate(50, seed=3, out=tmp_path)
    (tmp_path / ".sample-args").write_text("50 3\n")  # as `make sample` leaves it
    profiles = pq.read_table(tmp_path / contract.CUSTOMERS_FILE).num_rows
    assert profiles == 50
    source = _csv(tmp_path, "orders.csv", "K1,2024-01-05,1")
    with pytest.raises(LoadError, match=r"holds a generated sample .* 50 customer profiles"):
        load(source, tmp_path)
    with pytest.raises(LoadError, match="--append adds to an earlier import"):
        load(source, tmp_path, append=True)
    assert pq.read_table(tmp_path / contract.CUSTOMERS_FILE).num_rows == 50

    load(source, tmp_path, replace=True)
    # the sample marker goes with the sample, so `make sample` keeps the import
    assert not (tmp_path / ".sample-args").exists()
    assert pq.read_table(tmp_path / ".previous" / contract.CUSTOMERS_FILE).num_rows == 50
    load_module.main(["--undo", "--out", str(tmp_path)])
    assert pq.read_table(tmp_path / contract.CUSTOMERS_FILE).num_rows == 50
    assert (tmp_path / ".sample-args").exists()
    assert (tmp_path / contract.GROUND_TRUTH_FILE).exists()


def test_append_conserves_rows_and_set_aside_rows(tmp_path):
    out = tmp_path / "raw"
    a = _csv(tmp_path, "a.csv", "A1,2024-01-05,1", "A2,2024-01-06,2", "A3,2024-01-06,2")
    b = tmp_path / "b.csv"
    b.write_text("customer_id;order_date;amount;note\nB1;2024-02-05;3,5;x\nB2;2024-02-05;1.5;y\n")
    load(a, out)
    summary = load(b, out, append=True, decimal=",")
    assert _ids(out) == ["A1", "A2", "A3", "B1"]
    assert "3 earlier + 1 new = 4 rows" in summary.report()
    aside = pq.read_table(out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE).to_pylist()
    assert [(r["customer_id"], r["set_aside_reason"]) for r in aside] == [
        ("B2", "ambiguous_amount")
    ]
    with pytest.raises(LoadError, match="already holds this file"):
        load(b, out, append=True, decimal=",")
    with pytest.raises(LoadError, match=r"holds an import of a\.csv \+ b\.csv \(4 rows\)"):
        load(b, out, decimal=",")  # b alone would replace a + b
    load_module.main(["--undo", "--out", str(out)])
    assert _ids(out) == ["A1", "A2", "A3"]
    assert not (out / contract.SET_ASIDE_DIR / contract.SET_ASIDE_FILE).exists()


def test_nothing_to_undo_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        load_module.main(["--undo", "--out", str(tmp_path)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("ingest.load: error: nothing to undo")
