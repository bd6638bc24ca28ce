function (doc) {
  if (doc.type === 'product') {
    emit(doc.category, doc.price);
  }
}
