//go:build !js

package main

// report has nothing to show outside a page: main printed err already.
func report(error) {}

// publish has no page to tell.
func publish(string) {}
