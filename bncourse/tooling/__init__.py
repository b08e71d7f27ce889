"""Course tooling for developers: building the lessons, running notebooks under
perturbation, the course site. Nothing here is imported by the lessons."""
