(doc) => {
  if (doc.type === 'product') emit(doc.name.toLowerCase(), null);
}
