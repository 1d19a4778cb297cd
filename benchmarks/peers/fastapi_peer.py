"""FastAPI + uvicorn (uvloop + httptools) serving the churn model: /predict and /predict_rows."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from common import RecordsBody, RowsBody, load_booster, predict_records, predict_rows
from fastapi import FastAPI

STATE: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI):
    STATE["booster"] = load_booster()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
async def readyz() -> dict[str, bool]:
    return {"ready": "booster" in STATE}


@app.post("/predict")
async def predict(body: RecordsBody) -> dict[str, Any]:
    return predict_records(STATE["booster"], body)


@app.post("/predict_rows")
async def predict_rows_route(body: RowsBody) -> dict[str, Any]:
    return predict_rows(STATE["booster"], body)
