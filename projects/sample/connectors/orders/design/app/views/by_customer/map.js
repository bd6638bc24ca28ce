function (doc) {
  if (doc.type === 'order' && doc.customer) {
    emit([doc.customer, doc.date], 1);
  }
}
