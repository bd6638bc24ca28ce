function (doc) {
  if (doc.type === 'order') {
    emit(doc.status, doc.total);
  }
}
