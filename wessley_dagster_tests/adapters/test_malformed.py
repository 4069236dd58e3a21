"""Malformed sources give one clear error naming the place, and the import writes nothing."""

from pathlib import Path

import pytest

from wessley_dagster.adapters.importer import import_design
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.cli import main
from wessley_dagster.domain.bundle import BundleError
from wessley_dagster.stores.objects import LocalFolderStore
from wessley_dagster_tests.adapters.test_unseen_formats import kicad8_sexpr, kicad_xml
from wessley_dagster_tests.conftest import SOURCES

ZOMBIE = (SOURCES / "zombie-vcu-harness" / "zombie.yml").read_text()
EAGLE = (SOURCES / "oscc" / "hardware__boards__gateway__gateway_r0.sch").read_text()


def cases():
    truncated = kicad8_sexpr()[:-200]
    yield "kicad", "cut.net", truncated, "'(' is never closed: the file is truncated"
    yield "kicad", "no_name.xml", kicad_xml().replace('name="GND"', "", 1), "/export/nets[0]/net[0]: net has no name"
    yield (
        "kicad",
        "ghost.xml",
        kicad_xml().replace('ref="J2" pin="4"', 'ref="J9" pin="4"'),
        ("node names component 'J9', which is not in components"),
    )
    yield (
        "eagle",
        "ghost.sch",
        EAGLE.replace('pinref part="R1" ', 'pinref part="R99" ', 1),
        ("pinref names part 'R99', which does not exist"),
    )
    yield "eagle", "cut.sch", EAGLE[: len(EAGLE) // 2], "invalid XML"
    yield (
        "wireviz",
        "pin.yml",
        ZOMBIE.replace("- l110_oil_pump: [ 6 ]", "- l110_oil_pump: [ 9 ]"),
        ("connections[2][2].l110_oil_pump[0]: connector 'l110_oil_pump' pin 9 does not exist (pins 1-7)"),
    )
    yield (
        "wireviz",
        "wire.yml",
        ZOMBIE.replace("- Oil_Pump: [ 1]", "- Oil_Pump: [ 2]"),
        ("cable 'Oil_Pump' has no wire 2"),
    )


@pytest.mark.parametrize(("kind", "name", "content", "message"), list(cases()), ids=[c[1] for c in cases()])
def test_malformed_source_names_the_place_and_writes_nothing(kind, name, content, message, tmp_path: Path):
    path = tmp_path / name
    path.write_text(content)
    uploads = tmp_path / "uploads"
    with pytest.raises(BundleError) as excinfo:
        import_design(kind, path, JobInfo("p", "j"), LocalFolderStore(uploads))
    assert str(excinfo.value).startswith(f"{name}: ")
    assert message in str(excinfo.value)
    assert not uploads.exists()


def test_import_command_writes_the_bundle_and_reports_it(tmp_path: Path, capsys):
    source = SOURCES / "rusefi-inj12ch" / "classic-designs__1A_injector_12-channels__inj_12ch.net"
    assert main(["import", "kicad", str(source), "--project", "rusefi", "--job", "inj12", "--to", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "-> rusefi__inj12: 59 components, 45 nets, 160 connections" in out
    written = sorted(p.name for p in (tmp_path / "rusefi" / "inj12").iterdir())
    assert written == ["components.json", "manifest.json", "netlist.json", "text_spans.ndjson"]
    assert (
        out.strip().splitlines()[-1].startswith(f"wrote {(tmp_path / 'rusefi' / 'inj12' / 'manifest.json').as_uri()}")
    )


def test_import_command_fails_cleanly(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text(ZOMBIE.replace("- l110_oil_pump: [ 6 ]", "- l110_oil_pump: [ 9 ]"))
    assert main(["import", "wireviz", str(bad), "--project", "p", "--job", "j", "--to", str(tmp_path / "up")]) == 2
    assert "pin 9 does not exist" in capsys.readouterr().err
    assert not (tmp_path / "up").exists()


def test_import_command_writes_to_an_s3_prefix(s3_env, monkeypatch, capsys):
    import boto3

    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    source = SOURCES / "zombie-vcu-harness" / "zombie.yml"
    bucket = s3_env["S3_BUCKET"]
    args = ["import", "wireviz", str(source), "--project", "ev", "--job", "loom", "--to", f"s3://{bucket}/uploads"]
    assert main(args) == 0
    assert f"wrote s3://{bucket}/uploads/ev/loom/manifest.json" in capsys.readouterr().out
    client = boto3.client("s3", endpoint_url=s3_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket, Prefix="uploads/ev/loom/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in listed) == [
        "components.json",
        "manifest.json",
        "netlist.json",
        "text_spans.ndjson",
    ]
