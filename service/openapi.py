"""Write the served OpenAPI document to openapi/openapi.json: `python -m service.openapi`."""

import json
from pathlib import Path

from service.main import create_app

PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def document() -> str:
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_text(document())
    print(f"wrote {PATH}")
