from __future__ import annotations

import json

from helpers import ROOT

from reportsum.cli.schemas import render_schemas
from reportsum.models import Extraction


def test_committed_schemas_match_the_models():
    for name, text in render_schemas().items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"{path} missing: run `make schemas`"
        assert path.read_text(encoding="utf-8") == text, f"{name} drifted: run `make schemas`"


def test_model_facing_schema_is_four_required_lists_of_text_and_evidence():
    schema = Extraction.model_json_schema()
    assert sorted(schema["required"]) == ["achievements", "measures", "plans", "problems"]
    assert schema["additionalProperties"] is False
    item = schema["$defs"]["ExtractItem"]
    assert sorted(item["required"]) == ["evidence", "text"]
    assert item["additionalProperties"] is False
    assert item["properties"]["text"]["minLength"] == 1
    assert json.dumps(schema)  # serialisable as sent to a model
