"""The peer: a minimal FastAPI + uvicorn app serving the same model with the same features.

It loads the model through the bento's own loader (same registry, checksum and
column checks), validates with the same generated pydantic record model, and
scores with the same function, so it differs from the churn bento only in the
HTTP framework. It records no metrics: it is the bare peer to beat.

Run: MODELOPS_REGISTRY=... MODELOPS_MODEL_VERSION=... \
     uvicorn fastapi_app:app --app-dir benchmarks --port 8000
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from modelops_bentos.churn.model import LoadRequest, load_model
from modelops_bentos.churn.schemas import Prediction, PredictResponse, Records
from modelops_bentos.churn.scoring import score

STATE: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI):
    STATE["model"] = load_model(LoadRequest.from_env())
    yield
    STATE.clear()


app = FastAPI(lifespan=lifespan)


class PredictBody(BaseModel):
    records: Records


@app.get("/readyz")
async def readyz() -> dict[str, bool]:
    if "model" not in STATE:
        raise HTTPException(status_code=503, detail="model not loaded")
    return {"ready": True}


@app.post("/predict")
async def predict(body: PredictBody) -> PredictResponse:
    model = STATE["model"]
    raw = [vars(r) for r in body.records]
    scored = score(model, raw)
    return PredictResponse(
        model=model.model,
        version=model.version,
        predictions=[
            Prediction(customer_id=r["customer_id"], churn_probability=float(p))
            for r, p in zip(raw, scored.probabilities.tolist(), strict=True)
        ],
    )
