"""Carbon-intensity traces (hourly, UTC, gCO2eq/kWh) and forecasters."""
