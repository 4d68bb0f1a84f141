"""电子处方流转: a pharmacy's authorisation to dispense an electronic prescription offline (7201)."""
