"""The churn prediction BentoML service.

Modules (import `service` only where BentoML is wanted: it pulls in BentoML):
  schemas    pydantic request / response models generated from RAW_SCHEMA
  model      loading and verifying a model version from the registry
  scoring    raw records -> features -> churn probabilities (one code path)
  predict    XGBoost's dense predict without the wrapper's per-call overhead
  telemetry  the common modelops_ metrics; modelops_prediction = churn probability
  faults     opt-in fault injection on /predict (canary demos and tests)
  service    the @bentoml.service class `Churn`
The middleware, direct routes, loader and metrics are in `modelops_bentos.common`.
"""
