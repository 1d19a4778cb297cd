"""What every modelops BentoML service shares (churn, learning_path).

Modules (import `service` only where BentoML is wanted: it pulls in BentoML):
  middleware request accounting, input guards and error-body shaping (ASGI)
  direct     hot API routes answered past BentoML's router, with its own input model
  logfilter  BentoML's validation tracebacks as one INFO line naming the fields
  loader     the environment contract and the retrying background model loader
  schemas    pydantic fields generated from a modelops_features schema
  telemetry  the modelops_ Prometheus metrics (profile-bucketed numpy counters)
  service    the service-class mix-in, tracing settings and middleware wiring
"""
