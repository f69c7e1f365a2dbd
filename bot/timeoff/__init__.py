"""A person's own time off (``/hygiene away``): stored per person per workspace, read by the
planner (away days are not working days for their items), the sender (nothing is sent to them
while away) and the snooze (it lands after the time off)."""
