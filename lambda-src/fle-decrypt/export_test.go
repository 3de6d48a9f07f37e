package main

// ParseMarkerKeys is parseMarkerKeys for the external tests.
var ParseMarkerKeys = parseMarkerKeys
