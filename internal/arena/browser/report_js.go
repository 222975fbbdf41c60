package main

import "syscall/js"

// report shows err on the page, in the element with id "status" when
// there is one.
func report(err error) {
	doc := js.Global().Get("document")
	if doc.IsUndefined() {
		return
	}
	if el := doc.Call("getElementById", "status"); !el.IsNull() {
		el.Set("textContent", "arena: "+err.Error())
		el.Get("style").Set("display", "block")
	}
}

// publish sets the data-players attribute of the page's body.
func publish(players string) {
	body := js.Global().Get("document").Get("body")
	if body.IsUndefined() || body.IsNull() {
		return
	}
	body.Get("dataset").Set("players", players)
}
