function (doc) {
  var money = require('views/lib/money');
  if (doc.type === 'order') {
    emit(doc.date.substring(0, 7), money.cents(doc.total));
  }
}
