// Command solo does not import the shared greeting package.
package main

import "fmt"

func main() { fmt.Println("solo") }
