"""Live model quality of the stable track (pure): labelled outcomes in, PerformanceDegraded out.

`source` names what a measurement reads (the `QualitySource` protocol: a
window of the inference log joined with feedback, per version) and `verdict`
what it means: Degraded / NotDegraded / InsufficientLabels / Unknown,
status.performance, the PerformanceDegraded condition and its Events.
"""
