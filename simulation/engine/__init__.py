"""The engine that runs the theory: parameters, inputs and timeline, the yearly step, the Mesa model, the ensemble."""
