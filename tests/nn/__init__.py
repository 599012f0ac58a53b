"""Tests of disentangle.nn."""
