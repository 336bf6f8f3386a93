export default async (input) => input;
