"""Robot motion for the workcells: arms, their moves, floor paths and what the cells do.

- ``kinematics``: DH chains (UR10e, KR 210 class, a 7-DOF humanoid arm) and vectorized
  forward kinematics: every link frame of many arms at once.
- ``ik``: inverse kinematics (damped least squares), with a clear error when a target
  cannot be reached.
- ``trajectory``: synchronized trapezoidal joint moves and programs, exact at any time.
- ``drives``: joint torques and electrical power of arms in motion.
- ``paths``: occupancy grid of a hall floor and A* paths to the aisle of a rack.
- ``cells``: task cells (cycles, faults, batteries, OEE) and service-robot fleets.
- ``placement``: where each robot of a workcell stands, with its belt, bench or dock.

numpy only, like the rest of ``twin.sim``.
"""
