"""The churn prediction BentoML service.

Modules (import `service` only where BentoML is wanted: it pulls in BentoML):
  schemas    pydantic request / response models generated from RAW_SCHEMA
  model      loading and verifying a model version from the registry
  scoring    raw records -> features -> churn probabilities (one code path)
  telemetry  the modelops_ Prometheus metrics (profile-bucketed numpy counters)
  middleware request accounting, input guards and error-body shaping (ASGI)
  service    the @bentoml.service class `Churn`
"""
