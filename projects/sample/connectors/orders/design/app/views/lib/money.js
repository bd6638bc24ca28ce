exports.cents = function (amount) {
  return Math.round(amount * 100);
};
