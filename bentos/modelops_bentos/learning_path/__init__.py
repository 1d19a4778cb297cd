"""The learning-path recommendation BentoML service (see README.md in this folder).

Modules (import `service` only where BentoML is wanted: it pulls in BentoML):
  schemas    pydantic request / response models, the activity generated from RAW_SCHEMA
  model      loading and verifying a learning-path model version from the registry
  scoring    activity -> features -> module scores -> top-k (the shared feature code)
  telemetry  the common modelops_ metrics plus a per-module recommendation counter
  service    the @bentoml.service class `LearningPath`
The middleware, direct routes, loader and metrics are in `modelops_bentos.common`.
"""
