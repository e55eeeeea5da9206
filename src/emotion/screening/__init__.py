"""Screenings: a test group's recordings classified (here or on Ray) into viewers, the episode scored, its
moments cut into a trailer with a timeline and a review page."""
