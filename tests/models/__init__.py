"""Tests of disentangle.models."""
