// Command hello has the same last import-path element as ../../hello, so a
// single "go build -o DIR" would write both to DIR/hello.
package main

import "fmt"

func main() { fmt.Println("alt hello") }
