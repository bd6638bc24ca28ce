function (keys, values, rereduce) {
  // Total in cents and number of orders per group; rereduce adds partial results.
  if (rereduce) {
    return values.reduce(function (a, b) { return { cents: a.cents + b.cents, orders: a.orders + b.orders }; });
  }
  return { cents: sum(values), orders: values.length };
}
