// Package chart draws a benchkit.Plot to an SVG or PNG file with
// gonum.org/v1/plot: line plots with error bars for numeric X, and grouped
// bar charts (one bar per series in each labelled group) with error bars
// from each series' spread.
//
// It is not a general plotting API: it draws what sections describe in
// benchkit's terms, in one house style, and nothing else.
package chart
