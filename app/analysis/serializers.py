"""JSON shapes of the analyze API (camelCase, as the API was specified)."""
import csv
import io
import json

from app.analysis.models import Analysis, AnalysisSession
from app.timeutil import isoformat


def upload_json(analysis: Analysis) -> dict:
    return {"id": analysis.id, "uploadPath": analysis.upload_path, "originalFilename": analysis.original_filename}


def analysis_json(analysis: Analysis) -> dict:
    body = {**upload_json(analysis), "status": analysis.status.value, "imageId": analysis.image_id}
    if analysis.result is not None:
        body["metadata"] = public_metadata(analysis.result)
    if analysis.error:
        body["error"] = analysis.error
    return body


def public_metadata(metadata: dict) -> dict:
    return {key: value for key, value in metadata.items() if key != "analyzer"}


def session_json(session: AnalysisSession) -> dict:
    analyses = list(session.analyses)
    done = [a for a in analyses if a.run == session.run and a.status.value in ("succeeded", "failed")]
    return {
        "sessionId": session.id,
        "context": session.context,
        "createdAt": isoformat(session.created_at),
        "expiresAt": isoformat(session.expires_at),
        "run": session.run,
        "progress": {"done": len(done), "total": session.run_total},
        "images": [analysis_json(analysis) for analysis in analyses],
    }


EXPORT_COLUMNS = ("originalFilename", "title", "alt", "caption", "description", "filename", "seoTags", "roomType",
                  "warnings")


def export_rows(analyses: list[Analysis]) -> list[dict]:
    """One flat row per described photo, for CSV and JSON downloads."""
    rows = []
    for analysis in analyses:
        result = analysis.result or {}
        rows.append({
            "originalFilename": analysis.original_filename or analysis.id,
            **{name: result.get(name) for name in EXPORT_COLUMNS[1:-2]},
            "seoTags": result.get("seoTags") or [],
            "roomType": result.get("roomType"),
            "warnings": ((result.get("compliance") or {}).get("warnings")) or [],
        })
    return rows


def export_csv(analyses: list[Analysis]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in export_rows(analyses):
        writer.writerow({**row, "seoTags": ", ".join(row["seoTags"]), "warnings": " ".join(row["warnings"])})
    return buffer.getvalue()


def export_json(analyses: list[Analysis]) -> str:
    return json.dumps(export_rows(analyses), indent=2, ensure_ascii=False)
