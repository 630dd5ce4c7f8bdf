"""The v1 API's JSON shape of a flow."""
from app.flows.models import Flow
from app.generations.service import count_by_flow as generations_per_flow
from app.images.service import count_by_flow as images_per_flow
from app.timeutil import isoformat


def flow_counts(flows: list[Flow]) -> dict[str, dict]:
    """Live generations and images of each flow, two queries for the whole list."""
    ids = [flow.id for flow in flows]
    generations, images = generations_per_flow(ids), images_per_flow(ids)
    return {flow_id: {"generationCount": generations[flow_id], "imageCount": images[flow_id]} for flow_id in ids}


def flows_json(flows: list[Flow]) -> list[dict]:
    """The v1 API representation of flows, with their aliases and counts."""
    counts = flow_counts(flows)
    return [
        {
            "id": flow.id,
            "projectId": flow.project_id,
            "aliases": flow.aliases or {},
            "meta": flow.meta or {},
            **counts[flow.id],
            "createdAt": isoformat(flow.created_at),
            "updatedAt": isoformat(flow.updated_at),
        }
        for flow in flows
    ]


def flow_json(flow: Flow) -> dict:
    return flows_json([flow])[0]
